use super::*;

fn exchanges(code: &str, language: &str) -> Vec<(String, String)> {
    parse(code, language)
        .unwrap()
        .exchanges
        .into_iter()
        .map(|e| (e.input, e.expected))
        .collect()
}

#[test]
fn a_python_session_splits_into_statements_and_their_output() {
    let code = ">>> from huggingface_hub import whoami\n>>> whoami()[\"name\"]\n'ada'\n>>> for i in range(2):\n...     print(i)\n...\n0\n1\n";
    let found = exchanges(code, "py");
    assert_eq!(found.len(), 3);
    assert_eq!(found[1], ("whoami()[\"name\"]".into(), "'ada'\n".into()));
    assert_eq!(
        found[2],
        ("for i in range(2):\n    print(i)\n".into(), "0\n1\n".into())
    );
    assert_eq!(parse(code, "py").unwrap().style(), Style::Pycon);
}

#[test]
fn a_bare_ellipsis_after_a_complete_statement_elides_output() {
    let found = exchanges(">>> whoami()\n...\n>>> f(\n... 1)\n2\n", "python");
    assert_eq!(found[0], ("whoami()".into(), "...\n".into()));
    assert_eq!(found[1], ("f(\n1)".into(), "2\n".into()));
}

#[test]
fn shell_sessions_use_dollar_or_python_prompts_in_a_shell_fence() {
    let found = exchanges("$ hf auth whoami\nuser: ada\n$ hf download \\\n  x\n", "");
    assert_eq!(found[0], ("hf auth whoami".into(), "user: ada\n".into()));
    assert_eq!(found[1], ("hf download \\\nx".into(), String::new()));
    let hf_docs = parse(">>> hf auth whoami\nada\n", "bash").unwrap();
    assert_eq!(hf_docs.prompts, Prompts::Shell);
    assert_eq!(hf_docs.exchanges[0].input, "hf auth whoami");
    // Whatever the fence says: a `$ ` session in a `py` fence is still a shell session.
    assert_eq!(parse("$ ls\n", "py").unwrap().prompts, Prompts::Shell);
}

#[test]
fn an_unlabelled_session_is_read_from_its_commands() {
    assert_eq!(
        parse(">>> hf auth whoami\nada\n", "").unwrap().prompts,
        Prompts::Shell
    );
    assert_eq!(
        parse(">>> import os\n>>> os.sep\n'/'\n", "")
            .unwrap()
            .prompts,
        Prompts::Python
    );
    assert_eq!(read(">>> whoami\nada\n", ""), Content::Unclear);
}

#[test]
fn an_unlabelled_block_is_guessed_only_when_clear() {
    let python =
        "from huggingface_hub import whoami\n\nuser = whoami(\n    token=t,\n)\nprint(user)\n";
    assert_eq!(read(python, ""), Content::Code(Style::Python));
    let shell = "export HF_TOKEN=x\nhf auth whoami\npip install -U huggingface_hub\n";
    assert_eq!(read(shell, ""), Content::Code(Style::Shell));
    assert_eq!(
        read("HF_HOME=/tmp/x hf download \\\n  a b\n", ""),
        Content::Code(Style::Shell)
    );
    // Mixed, prose-like or bare words: no guess.
    assert_eq!(read("hf auth whoami\nprint(1)\n", ""), Content::Unclear);
    assert_eq!(read("user: ada\norgs: hf-course\n", ""), Content::Unclear);
    assert_eq!(read("whoami\n", ""), Content::Unclear);
    // A named language is never second-guessed.
    assert_eq!(read("{\"a\": 1}\n", "json"), Content::Other);
    assert_eq!(read("print(1)\n", "bash"), Content::Code(Style::Shell));
}

#[test]
fn open_statements_are_told_from_complete_ones() {
    assert!(statement_is_open("if x:"));
    assert!(statement_is_open("for x in y:\n    print(x)"));
    assert!(!statement_is_open("for x in y:\n    print(x)\n"));
    assert!(statement_is_open("f(1,"));
    assert!(!statement_is_open("f(')')"));
    assert!(!statement_is_open("whoami()"));
}
