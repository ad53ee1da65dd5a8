//! The end of a long output, for error messages: the one place that picks the last lines of a text.
//!
//! A failed check ([`crate::harness::check::tail`]), a failed install or import check
//! ([`crate::harness::pyenv`]) and a warm interpreter that died ([`crate::harness::warm`]) all
//! quote the end of what the process printed; each keeps its own format (a header, an indent, a
//! cut per line) and takes the lines from here. A leaf: it imports nothing of the crate.

/// The last lines of a text and how many lines came before them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail<'a> {
    /// How many lines were left out before [`Tail::lines`].
    pub skipped: usize,
    /// The last lines, in order.
    pub lines: Vec<&'a str>,
}

/// The last `count` of `lines` (all of them when there are fewer), and how many came before:
/// `last_lines(text.lines(), 30)`.
pub fn last_lines<'a>(lines: impl IntoIterator<Item = &'a str>, count: usize) -> Tail<'a> {
    let mut lines: Vec<&str> = lines.into_iter().collect();
    let skipped = lines.len().saturating_sub(count);
    lines.drain(..skipped);
    Tail { skipped, lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_and_how_many_came_before() {
        let tail = last_lines("a\nb\nc\nd\n".lines(), 2);
        assert_eq!(tail.skipped, 2);
        assert_eq!(tail.lines, ["c", "d"]);
        let short = last_lines("a\nb".lines(), 5);
        assert_eq!(short.skipped, 0);
        assert_eq!(short.lines, ["a", "b"]);
        assert_eq!(last_lines("".lines(), 3).lines, Vec::<&str>::new());
        assert_eq!(last_lines("a\nb".lines(), 0).skipped, 2);
    }
}
