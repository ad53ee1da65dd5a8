//! `test --journey`: the whole book in reading order (SUMMARY order, then each page top to
//! bottom) as one student, with one account and one machine.
//!
//! Every snippet's first scenario runs on one [`Stage`]: one mock Hub, one HOME and HF_HOME, one
//! working folder. What an earlier page did (a login, an upload, a saved token, an approved
//! access request) is still there when a later page runs, as it is for a student who follows
//! the book; a promise that holds only for a fresh account fails here. A snippet whose page
//! must assume a fresh account says why in its annotation (`journey-fresh`), and runs in a world
//! of its own, which its line says.

use std::io::{IsTerminal, Write};

use super::Error;
use super::runner::{Case, CaseResult, Harness, case_line};
use super::stage::Stage;

impl Harness {
    /// Runs the first scenario of every snippet among `cases`, in book order, one after
    /// another on one stage (each twice over with `rerun`), printing a line per snippet and
    /// progress on a terminal; returns their results in book order.
    pub fn run_journey(
        &self,
        cases: &[Case],
        rerun: bool,
        out: &mut (dyn Write + Send),
    ) -> Result<Vec<CaseResult>, Error> {
        let steps = journey_cases(cases);
        let stage = Stage::new(self.isolation, &self.hubs, &self.venv_bin)
            .map_err(|e| Error::Journey(Box::new(e)))?;
        let tty = std::io::stderr().is_terminal();
        let mut results = Vec::new();
        for (done, case) in steps.iter().enumerate() {
            if tty {
                eprint!(
                    "\r\x1b[2K[{}/{}] running {}...",
                    done + 1,
                    steps.len(),
                    case.name
                );
            }
            let fresh = self.snippets[case.snippet]
                .annotation
                .journey_fresh
                .as_deref();
            let result = match fresh {
                Some(_) => self.run_case_on(case, None, rerun),
                None => self.run_case_on(case, Some(&stage), rerun),
            };
            if super::interrupt::received().is_some() {
                break;
            }
            if tty {
                eprint!("\r\x1b[2K");
            }
            let name = match fresh {
                Some(why) => format!("{} [in a fresh world: {why}]", case.name),
                None => case.name.clone(),
            };
            writeln!(out, "{}", case_line(&result, &name)).ok();
            out.flush().ok();
            results.push(result);
        }
        Ok(results)
    }
}

/// The cases a journey runs: each snippet's first scenario (and the blocks that do not run, to
/// report them), in book order.
pub fn journey_cases(cases: &[Case]) -> Vec<Case> {
    let mut chosen: Vec<Case> = cases
        .iter()
        .filter(|case| case.scenario.is_none_or(|j| j == 0))
        .cloned()
        .collect();
    chosen.sort_by_key(|case| case.snippet);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journey_takes_each_snippets_first_scenario_in_book_order() {
        let case = |snippet, scenario: Option<usize>| Case {
            snippet,
            scenario,
            name: format!("{snippet}-{scenario:?}"),
        };
        let cases = [
            case(2, Some(0)),
            case(0, Some(1)),
            case(0, Some(0)),
            case(1, None),
            case(2, Some(1)),
        ];
        let chosen: Vec<(usize, Option<usize>)> = journey_cases(&cases)
            .into_iter()
            .map(|c| (c.snippet, c.scenario))
            .collect();
        assert_eq!(chosen, [(0, Some(0)), (1, None), (2, Some(0))]);
    }
}
