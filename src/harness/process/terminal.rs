//! A person at the terminal: the `Typist` that types each answer once its prompt is on screen
//! and the program waits for input ([`super::group`] tells when), and terminal output as a
//! person reads it.
//!
//! It types and reads; it does not start or supervise processes ([`super::supervise`] calls it
//! through `Act`).

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use super::group::waits_for_input;
use super::invocation::Answer;
use super::supervise::Act;
use crate::harness::isolation::sandbox::{TERMINAL_COLUMNS, TERMINAL_ROWS};

/// The shortest pause after a keystroke, so a program woken by it is seen running before the next.
const KEY_PAUSE: Duration = Duration::from_millis(20);
/// How long to wait for a program to sit waiting for input before typing anyway.
const INPUT_WAIT: Duration = Duration::from_secs(5);

/// How long a run on a terminal may sit waiting for input nobody will type, with nothing new on
/// screen, before it is ended as waiting for a person.
const STALL: Duration = Duration::from_millis(2000);

/// Waits until the program waits for input: every process of `leader`'s group asleep and one of
/// them in a terminal read or poll, seen twice in a row; or until `limit` has passed.
pub(crate) fn wait_for_input(leader: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < deadline {
        quiet = if waits_for_input(leader) {
            quiet + 1
        } else {
            0
        };
        thread::sleep(Duration::from_millis(10));
    }
}

/// Types the answers at their prompts, in order, as a person at the terminal does.
pub(crate) struct Typist {
    pending: std::iter::Peekable<std::vec::IntoIter<Answer>>,
    /// Answers only match text after the previous prompt.
    cursor: usize,
    leader: u32,
    /// How much text was on screen at the last look, and since when.
    screen: (usize, Instant),
}

impl Typist {
    /// Answers for the program whose process group `leader` leads.
    pub(crate) fn new(answers: Vec<Answer>, leader: u32) -> Typist {
        Typist {
            pending: answers.into_iter().peekable(),
            cursor: 0,
            leader,
            screen: (0, Instant::now()),
        }
    }

    /// Types the next answer if its prompt is on screen; else ends a run that sits waiting for
    /// input nobody will type (the screen unchanged for [`STALL`], the program in a terminal
    /// read), naming the prompt on screen and the annotation that answers it.
    pub(crate) fn act(&mut self, text: &str, writer: &mut dyn Write) -> Act {
        if self.answer(text, writer) {
            self.screen = (text.len(), Instant::now());
            return Act::Typed;
        }
        if text.len() != self.screen.0 {
            self.screen = (text.len(), Instant::now());
            return Act::Idle;
        }
        // Only a program with something on screen that has had every answer the scenario gives
        // can be waiting for a person: before that it may still be starting or working (a
        // forked run's shim sleeps on its socket just like a terminal read).
        let answered_all = self.pending.peek().is_none();
        if !answered_all
            || text.trim().is_empty()
            || self.screen.1.elapsed() < STALL
            || !waits_for_input(self.leader)
        {
            return Act::Idle;
        }
        // Asleep in a terminal read twice over, a moment apart: it waits for a person.
        thread::sleep(Duration::from_millis(100));
        if !waits_for_input(self.leader) {
            return Act::Idle;
        }
        Act::Stop(self.waiting_message(text))
    }

    /// Says which prompt the program waits at, and which annotation would answer it.
    fn waiting_message(&mut self, text: &str) -> String {
        let on_screen = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("")
            .to_string();
        let expected = match self.pending.peek() {
            Some(next) => format!(
                " (the scenario's next prompt, {:?}, never appeared)",
                next.prompt
            ),
            None => String::new(),
        };
        format!(
            "waited for input at the prompt {on_screen:?}{expected}: nobody types there in this \
             scenario, so the run was ended. Add `input = [{{ prompt = {on_screen:?}, send = \
             \"...<enter>\" }}]` to the scenario (`{{token}}` types its token)"
        )
    }

    /// Types the next answer if its prompt is on screen; `true` when it typed.
    pub(crate) fn answer(&mut self, text: &str, writer: &mut dyn Write) -> bool {
        let Some(answer) = self.pending.peek() else {
            return false;
        };
        let Some(at) = text.get(self.cursor..).and_then(|t| t.find(&answer.prompt)) else {
            return false;
        };
        self.cursor += at + answer.prompt.len();
        for key in &answer.keys {
            // Type when the program waits for input, as a person who reads the prompt does;
            // menus that read raw keys then see the keys one by one.
            wait_for_input(self.leader, INPUT_WAIT);
            let _ = writer.write_all(key).and_then(|()| writer.flush());
            thread::sleep(KEY_PAUSE);
        }
        self.pending.next();
        true
    }

    /// The first prompt that never appeared.
    pub(crate) fn unanswered(&mut self) -> Option<String> {
        self.pending.next().map(|a| a.prompt)
    }
}

/// Terminal output as a person reads it: escape sequences removed, `\r\n` as `\n`.
pub fn clean_terminal_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters and intermediates, then one final byte in @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ST
                    for c in chars.by_ref() {
                        if c == '\x07' || c == '\\' {
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The size of every run's terminal (the pseudo-terminal's; the environment's `COLUMNS` and
/// `LINES` say the same, [`crate::harness::isolation::sandbox`]).
pub(crate) fn terminal_size() -> portable_pty::PtySize {
    portable_pty::PtySize {
        rows: TERMINAL_ROWS,
        cols: TERMINAL_COLUMNS,
        pixel_width: 0,
        pixel_height: 0,
    }
}
