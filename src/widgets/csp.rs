//! The Content-Security-Policy of the built pages: whatever script runs on a page, the browser
//! itself sends nothing (no `fetch`, XHR, WebSocket, image, font or form) to any origin but the
//! page's own and the Hub's (`hub-endpoint`).
//!
//! It is a `<meta http-equiv="Content-Security-Policy">` in mdBook's theme file `head.hbs`, which
//! `index.hbs` includes near the top of `<head>`, before any of its scripts. GitHub Pages cannot
//! send headers, so a meta element is the way that works everywhere. mdBook's own page needs
//! inline scripts (the theme and sidebar set-up) and inline styles, hence `'unsafe-inline'` for
//! both: an injected inline script could run, but could still not send anything elsewhere.
//! A policy cannot stop a script from navigating the whole tab away; that limit is in
//! docs/widgets.md.
//!
//! The block also holds [`TOC_TITLE`], a `<title>` for mdBook's `toc.html` only (an accessibility
//! fix, docs/accessibility.md), since `head.hbs` is the one part of that page a book can add to.
//!
//! The block sits between two markers, so a later build (or `serve --mock-hub`, or `install` run
//! again) replaces it with the current endpoint instead of adding a second one.

/// The line before the policy in `head.hbs` (not `<!-- hubcheck`, which opens a snippet
/// annotation).
pub const BEGIN: &str =
    "<!-- mdbook-hubcheck: Content-Security-Policy (written by mdbook-hubcheck) -->";
/// The line after it.
pub const END: &str = "<!-- /mdbook-hubcheck -->";

/// The chapter (relative to the book's source folder) that shows students how to watch where the
/// token goes; the token checker links to it when the book has it.
pub const NETWORK_HELP_CHAPTER: &str = "where-your-token-goes.md";

/// `scheme://host[:port]` of an endpoint URL (the path dropped), as a CSP source.
pub fn origin(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// The policy for pages whose token checker asks `hub_endpoint`.
pub fn policy(hub_endpoint: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; media-src 'self'; \
         connect-src 'self' {}; object-src 'none'; frame-src 'self'; worker-src 'self'; \
         form-action 'none'; base-uri 'self'",
        origin(hub_endpoint)
    )
}

/// A `<title>` for mdBook's `toc.html`, the sidebar it frames in when JavaScript is off: its
/// template has none (axe `document-title`, docs/accessibility.md), but it includes `head.hbs`,
/// and mdBook sets `is_toc_html` for that page only, so every other page keeps its one title.
pub const TOC_TITLE: &str = "{{#if is_toc_html}}<title>Contents: {{ book_title }}</title>{{/if}}";

/// The marked block for `head.hbs`: the policy, and [`TOC_TITLE`].
pub fn head_block(hub_endpoint: &str) -> String {
    format!(
        "{BEGIN}\n<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n{TOC_TITLE}\n{END}\n",
        // Single quotes stay as they are (the attribute is double-quoted), so the file reads as
        // the policy it is.
        policy(hub_endpoint)
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    )
}

/// What to do with a theme's `head.hbs` so it carries the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadPlan {
    /// Write this content (a new file, or ours with the block brought up to date).
    Write(String),
    /// Already up to date.
    Unchanged,
    /// The file is the book's own and has no block of ours: leave it; the policy must be added
    /// by hand (`head_block` says what).
    Custom,
}

/// Decides what `head.hbs` should hold: `existing` is its content, if the theme has one.
pub fn plan_head(existing: Option<&str>, hub_endpoint: &str) -> HeadPlan {
    let block = head_block(hub_endpoint);
    let Some(text) = existing else {
        return HeadPlan::Write(block);
    };
    match (text.find(BEGIN), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let end = end + END.len();
            let end = if text[end..].starts_with('\n') {
                end + 1
            } else {
                end
            };
            let updated = format!("{}{block}{}", &text[..start], &text[end..]);
            if updated == text {
                HeadPlan::Unchanged
            } else {
                HeadPlan::Write(updated)
            }
        }
        _ => HeadPlan::Custom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_src_is_the_page_and_the_hubs_origin_only() {
        let p = policy("https://huggingface.co");
        assert!(
            p.contains("connect-src 'self' https://huggingface.co;"),
            "{p}"
        );
        assert!(
            policy("http://127.0.0.1:4000/").contains("connect-src 'self' http://127.0.0.1:4000;")
        );
        assert!(!p.contains('*'), "{p}");
        assert!(!p.contains("https:;") && !p.contains("data: https"), "{p}");
    }

    #[test]
    fn our_block_is_replaced_and_a_custom_head_is_left_alone() {
        let first = match plan_head(None, "https://huggingface.co") {
            HeadPlan::Write(text) => text,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            plan_head(Some(&first), "https://huggingface.co"),
            HeadPlan::Unchanged
        );
        let around = format!("<link rel=icon>\n{first}<!-- mine -->\n");
        let HeadPlan::Write(moved) = plan_head(Some(&around), "http://127.0.0.1:9") else {
            panic!()
        };
        assert!(moved.starts_with("<link rel=icon>\n") && moved.ends_with("<!-- mine -->\n"));
        assert!(moved.contains("http://127.0.0.1:9") && !moved.contains("huggingface.co"));
        assert_eq!(moved.matches(BEGIN).count(), 1);
        assert_eq!(
            plan_head(Some("<meta name=x>"), "https://huggingface.co"),
            HeadPlan::Custom
        );
    }
}
