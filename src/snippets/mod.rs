//! Snippets: the fenced code blocks of the handbook, with the annotations that say how to run them.
//!
//! This module only reads markdown; it never runs anything. [`scan`](fn@scan) finds every fenced code block
//! of a chapter together with the `<!-- hubcheck ... -->` comment in front of it, and
//! [`annotation`] turns that comment's TOML into a typed [`Annotation`]. The preprocessor uses the
//! same scan to strip annotations from what readers see, so the two can never disagree about where
//! an annotation is.

pub mod annotation;
pub mod extract;
pub mod includes;
pub mod scan;
pub mod transcript;

pub use annotation::{Annotation, Scenario};
pub use extract::{ExtractError, OutputBlock, Snippet, extract_book, extract_chapter};
pub use scan::{CodeBlock, RawAnnotation, ScanError, scan};
