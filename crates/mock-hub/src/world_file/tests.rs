//! The world file's reading and its errors, each with the line it names.

use std::path::Path;

use super::*;
use crate::world::TokenKind;

/// A world that is valid apart from what `extra` adds.
const BASE: &str = r#"student = "ada"

[accounts.ada]
fullname = "Ada"

[organisations.course]
members = { ada = "write" }

[tokens.read]
display-name = "ada-read"
role = "read"
"#;

fn parse_text(text: &str) -> Result<World, WorldFileError> {
    parse(text, Path::new("book/hub-world.toml"), Path::new("book"))
}

/// The line and message of the error `text` gives.
fn error_of(text: &str) -> (usize, String) {
    match parse_text(text) {
        Err(WorldFileError::Invalid {
            line,
            message,
            file,
        }) => {
            assert_eq!(file, Path::new("book/hub-world.toml"));
            (line, message)
        }
        Err(other) => panic!("expected a line error, got {other}"),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn the_starter_world_reads_and_holds_every_kind_of_token() {
    let world = starter();
    assert_eq!(world.student, "course-student");
    let kinds: Vec<TokenKind> = world.seeded_tokens.iter().map(|t| t.kind).collect();
    for kind in TokenKind::ALL {
        assert!(kinds.contains(&kind), "{kind} missing");
    }
    let llama = world
        .repo(RepoType::Model, "my-course/tiny-llama")
        .and_then(|r| r.head())
        .expect("llama repo");
    for file in [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "model.safetensors",
    ] {
        assert!(llama.files.contains_key(file), "{file}");
    }
    let gated = world
        .repo(RepoType::Model, "my-course/tiny-llama-gated")
        .unwrap();
    assert_eq!(gated.gated_label(), Some("manual"));
}

#[test]
fn token_values_are_new_for_every_reading() {
    let (a, b) = (starter(), starter());
    assert_ne!(a.seeded_tokens[0].value, b.seeded_tokens[0].value);
    assert_eq!(a.seeded_tokens[0].name, "read");
}

#[test]
fn an_unknown_key_names_its_line_and_the_keys_allowed() {
    let text = format!(
        "{BASE}\n[[repos]]\nid = \"course/m\"\ngenerate = \"bert\"\nvisibility = \"public\"\n"
    );
    let (line, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "visibility"));
    assert!(message.contains("unknown field `visibility`"), "{message}");
    assert!(message.contains("`private`"), "{message}");
}

#[test]
fn a_repository_declared_twice_is_refused_at_its_second_entry() {
    let repo = "\n[[repos]]\nid = \"course/m\"\ngenerate = \"bert\"\n";
    let text = format!("{BASE}{repo}{repo}");
    let (line, message) = error_of(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        line,
        lines.iter().rposition(|l| l.contains("course/m")).unwrap() + 1
    );
    assert!(message.contains("declared twice"), "{message}");
}

#[test]
fn a_token_of_an_account_that_does_not_exist_names_the_accounts_there_are() {
    let text = format!(
        "{BASE}\n[tokens.write]\naccount = \"bob\"\ndisplay-name = \"bob-write\"\nrole = \"write\"\n"
    );
    let (line, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "\"bob\""));
    assert!(message.contains("`bob` is not an account"), "{message}");
    assert!(
        message.contains("[accounts.bob]") && message.contains("ada"),
        "{message}"
    );
}

#[test]
fn a_folder_outside_the_book_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    std::fs::create_dir_all(book.join("data")).unwrap();
    std::fs::write(book.join("data/train.csv"), "text\nhello\n").unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::fs::write(dir.path().join("elsewhere/x.csv"), "x\n").unwrap();
    let file = book.join("hub-world.toml");
    let inside =
        format!("{BASE}\n[[repos]]\nid = \"course/d\"\ntype = \"dataset\"\nfiles = \"data\"\n");
    let world = parse(&inside, &file, &book).expect("a folder inside the book is fine");
    let head = world
        .repo(RepoType::Dataset, "course/d")
        .unwrap()
        .head()
        .unwrap();
    assert!(head.files.contains_key("train.csv"));

    let outside = inside.replace("files = \"data\"", "files = \"../elsewhere\"");
    match parse(&outside, &file, &book) {
        Err(WorldFileError::Invalid { line, message, .. }) => {
            assert_eq!(line, line_of(&outside, "../elsewhere"));
            assert!(message.contains("outside the book"), "{message}");
        }
        other => panic!("expected an error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn mistakes_of_meaning_name_their_line_and_what_to_write() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            BASE.replace("student = \"ada\"", "student = \"eve\""),
            "student",
            "names no account",
        ),
        (
            format!("{BASE}\n[[repos]]\nid = \"elsewhere/m\"\ngenerate = \"bert\"\n"),
            "elsewhere/m",
            "[organisations.elsewhere]",
        ),
        (
            format!("{BASE}\n[[repos]]\nid = \"course/m\"\n"),
            "course/m",
            "generate = \\\"bert\\\"",
        ),
        (
            format!(
                "{BASE}\n[tokens.fg]\ndisplay-name = \"fg\"\nrole = \"fine-grained\"\nglobal = [\"inference.write\"]\n"
            ),
            "inference.write",
            "not a fine-grained permission",
        ),
        (
            format!(
                "{BASE}\n[tokens.fg]\ndisplay-name = \"fg\"\nrole = \"fine-grained\"\nscoped = [{{ entity = \"model:course/none\", permissions = [\"repo.content.read\"] }}]\n"
            ),
            "model:course/none",
            "no such model",
        ),
        (
            format!("{BASE}\n[tokens.none]\ndisplay-name = \"n\"\nrole = \"read\"\n"),
            "[tokens.none]",
            "give the token another name",
        ),
        (
            format!(
                "{BASE}\n[tokens.w]\ndisplay-name = \"w\"\nrole = \"write\"\nread-gated-repos = true\n"
            ),
            "read-gated-repos",
            "role = \\\"fine-grained\\\"",
        ),
        (
            format!(
                "{BASE}\n[[repos]]\nid = \"course/m\"\ngenerate = \"bert\"\napproved = [\"ada\"]\n"
            ),
            "approved",
            "gated = \\\"manual\\\"",
        ),
    ];
    for (text, needle, says) in cases {
        let (line, message) = error_of(&text);
        assert_eq!(line, line_of(&text, needle), "{message}\n{text}");
        let says = says.replace("\\\"", "\"");
        assert!(message.contains(&says), "`{message}` should say `{says}`");
    }
}

#[test]
fn fine_grained_permissions_decide_what_the_token_may_do() {
    let text = format!(
        "{BASE}\n[tokens.fg]\ndisplay-name = \"fg\"\nrole = \"fine-grained\"\n\
         scoped = [{{ entity = \"model:course/private\", permissions = [\"repo.content.read\"] }},\n\
                   {{ entity = \"user:ada\", permissions = [\"repo.write\", \"inference.serverless.write\"] }}]\n\
         \n[[repos]]\nid = \"course/private\"\ngenerate = \"bert\"\nprivate = true\n\
         \n[[repos]]\nid = \"course/other\"\ngenerate = \"bert\"\nprivate = true\n"
    );
    let world = parse_text(&text).unwrap();
    let value = &world.token_named("fg").unwrap().value;
    let token = world.tokens.get(value).unwrap();
    let TokenRole::FineGrained(scope) = &token.role else {
        panic!("fine-grained")
    };
    let private = world.repo(RepoType::Model, "course/private").unwrap();
    let other = world.repo(RepoType::Model, "course/other").unwrap();
    assert!(world.token_can_see(Some(token), private));
    assert!(!world.token_can_see(Some(token), other));
    assert!(!world.token_can_write(token, private));
    assert!(world.token_can_create(token, "ada"));
    assert!(!world.token_can_create(token, "course"));
    assert!(scope.grants_user_permission("ada", "inference.serverless.write"));
}

#[test]
fn branches_and_tags_point_at_the_first_commit_and_may_not_repeat() {
    let text = format!(
        "{BASE}\n[[repos]]\nid = \"course/m\"\ngenerate = \"llama\"\nbranches = [\"dev\"]\ntags = [\"v1.0\"]\n"
    );
    let world = parse_text(&text).unwrap();
    let repo = world.repo(RepoType::Model, "course/m").unwrap();
    let head = repo.head().unwrap().id.clone();
    assert_eq!(repo.branches["dev"], head);
    assert_eq!(repo.tags["v1.0"], head);
    assert!(
        repo.head()
            .unwrap()
            .files
            .contains_key("generation_config.json")
    );

    let twice = text.replace("tags = [\"v1.0\"]", "tags = [\"v1.0\", \"v1.0\"]");
    let (line, message) = error_of(&twice);
    assert_eq!(line, line_of(&twice, "tags ="));
    assert!(
        message.contains("tag `v1.0` is declared twice"),
        "{message}"
    );
}

#[test]
fn inference_entries_name_declared_models_and_known_providers() {
    let repo = "\n[[repos]]\nid = \"course/chat\"\ngenerate = \"llama\"\n";
    let good = format!(
        "{BASE}{repo}\n[[inference]]\nmodel = \"course/chat\"\nproviders = [\"together\"]\n"
    );
    let world = parse_text(&good).unwrap();
    assert_eq!(world.inference[0].providers, ["together"]);
    assert!(world.inference[0].reply.contains("mock model"));
    for (text, needle, says) in [
        (
            good.replace("[\"together\"]", "[\"togther\"]"),
            "togther",
            "`togther` is not a provider",
        ),
        (
            good.replace("model = \"course/chat\"", "model = \"course/other\""),
            "course/other",
            "declare it in [[repos]] first",
        ),
    ] {
        let (line, message) = error_of(&text);
        assert_eq!(line, line_of(&text, needle), "{message}");
        assert!(message.contains(says), "{message}");
    }
}
