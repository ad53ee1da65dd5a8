//! The harness: runs every snippet of the book for real, with the real clients, against the mock Hub.

pub mod process;
