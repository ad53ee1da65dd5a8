//! The house rules that docs/ARCHITECTURE.md states, checked: no import circle between the files
//! of `src/` and `crates/`, the document names every folder, and each invariant it states names a
//! test that exists.
//!
//! An import is a path that starts with `crate::`, `super::` or `self::`, in a `use` or anywhere in
//! the code (parsed with `syn`, so strings and comments do not count). It leads to the file that
//! holds the module it names; a name that the file only re-exports (`pub use child::Name`) is
//! followed to the file that defines it, so a facade does not hide an edge. A file's own inline
//! modules (`mod tests { use super::*; }`) are the file itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::prelude::{repo_root, run_cargo};

/// One crate's files, by module path (`["harness", "pyenv"]` for `src/harness/pyenv/mod.rs`).
struct CrateFiles {
    root: PathBuf,
    modules: BTreeMap<Vec<String>, PathBuf>,
}

/// The crates whose files must not import each other in a circle.
fn crates() -> Vec<CrateFiles> {
    let repo = repo_root();
    let mut roots = vec![repo.join("src")];
    for entry in fs::read_dir(repo.join("crates")).expect("crates/ is readable") {
        let src = entry.expect("crates/ entry").path().join("src");
        if src.join("lib.rs").is_file() {
            roots.push(src);
        }
    }
    roots.into_iter().map(crate_files).collect()
}

fn crate_files(root: PathBuf) -> CrateFiles {
    let mut modules = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("source folder is readable") {
            let path = entry.expect("source entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Some(module) = module_path(&root, &path)
            {
                modules.insert(module, path);
            }
        }
    }
    CrateFiles { root, modules }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` is the crate root; `main.rs` is a crate
/// of its own (the binary), left out: it only calls the library.
fn module_path(root: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    match last.as_str() {
        "lib.rs" if parts.is_empty() => {}
        "main.rs" if parts.is_empty() => return None,
        "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    Some(parts)
}

/// The paths a file names that start at `crate`, `super` or `self`, made absolute, each with the
/// line it is on.
#[derive(Default)]
struct Paths {
    /// The module the visitor is in: the file's, then any inline `mod` inside it.
    here: Vec<String>,
    found: Vec<(Vec<String>, usize)>,
    /// `pub use` leaves: the name it makes visible here, and the absolute path it points to.
    reexports: Vec<(String, Vec<String>)>,
    in_pub_use: bool,
    /// The file's child modules (`mod plan;` beside `plan/`), which a path may name without
    /// `self::` (`use plan::prepare;`, `plan::prepare()`).
    children: BTreeSet<String>,
    /// How deep the visitor is in inline modules of the file (`mod tests { ... }`).
    inline: usize,
}

impl Paths {
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let (first, rest) = segments.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.here.clone(),
            "super" => {
                let mut base = self.here.clone();
                base.pop()?;
                base
            }
            child if self.inline == 0 && self.children.contains(child) => {
                let mut path = self.here.clone();
                path.extend(segments.iter().cloned());
                return Some(path);
            }
            _ => return None,
        };
        let mut rest = rest.iter().peekable();
        while rest.peek().is_some_and(|s| *s == "super") {
            base.pop()?;
            rest.next();
        }
        base.extend(rest.cloned());
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, n.ident.to_string(), None, line),
            syn::UseTree::Rename(r) => self.use_leaf(
                prefix,
                r.ident.to_string(),
                Some(r.rename.to_string()),
                line,
            ),
            syn::UseTree::Glob(_) => {
                if let Some(path) = self.absolute(prefix) {
                    self.found.push((path, line));
                }
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item, line);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &[String], name: String, rename: Option<String>, line: usize) {
        let mut segments = prefix.to_vec();
        let visible = rename.unwrap_or_else(|| name.clone());
        if name != "self" {
            segments.push(name);
        }
        // A relative path (`pub use child::Name`) starts at this module.
        let path = self.absolute(&segments).or_else(|| {
            let mut relative = self.here.clone();
            relative.extend(segments.iter().cloned());
            (!segments.is_empty() && self.in_pub_use).then_some(relative)
        });
        let Some(path) = path else { return };
        if self.in_pub_use {
            self.reexports.push((visible, path.clone()));
        }
        let first = segments.first().map(String::as_str);
        if matches!(first, Some("crate" | "super" | "self"))
            || first.is_some_and(|child| self.inline == 0 && self.children.contains(child))
        {
            self.found.push((path, line));
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let inline = item.content.is_some();
        self.here.push(item.ident.to_string());
        self.inline += usize::from(inline);
        syn::visit::visit_item_mod(self, item);
        self.inline -= usize::from(inline);
        self.here.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let line = item.use_token.span.start().line;
        self.in_pub_use = !matches!(item.vis, syn::Visibility::Inherited);
        self.use_tree(&mut Vec::new(), &item.tree, line);
        self.in_pub_use = false;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_none()
            && segments.len() > 1
            && let Some(absolute) = self.absolute(&segments)
        {
            let line = path.segments[0].ident.span().start().line;
            self.found.push((absolute, line));
        }
        syn::visit::visit_path(self, path);
    }
}

/// An edge from one file to another, with the line of the first path that makes it.
type Edges = BTreeMap<PathBuf, BTreeMap<PathBuf, usize>>;

/// Every file-to-file import in one crate.
fn edges(files: &CrateFiles) -> Edges {
    let mut parsed = BTreeMap::new();
    for (module, file) in &files.modules {
        let text = fs::read_to_string(file).expect("source file is readable");
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let children = files
            .modules
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect();
        let mut paths = Paths {
            here: module.clone(),
            children,
            ..Paths::default()
        };
        paths.visit_file(&ast);
        parsed.insert(file.clone(), paths);
    }
    let reexports: BTreeMap<&PathBuf, &Vec<(String, Vec<String>)>> =
        parsed.iter().map(|(f, p)| (f, &p.reexports)).collect();
    let mut edges = Edges::new();
    for (file, paths) in &parsed {
        for (path, line) in &paths.found {
            let Some(target) = resolve(files, &reexports, path, 0) else {
                continue;
            };
            if &target != file {
                edges
                    .entry(file.clone())
                    .or_default()
                    .entry(target)
                    .or_insert(*line);
            }
        }
    }
    edges
}

/// The file that defines what `path` names: the deepest module file on the path, then through its
/// `pub use` of the next name, if it has one.
fn resolve(
    files: &CrateFiles,
    reexports: &BTreeMap<&PathBuf, &Vec<(String, Vec<String>)>>,
    path: &[String],
    depth: usize,
) -> Option<PathBuf> {
    let (length, file) = (0..=path.len())
        .rev()
        .find_map(|n| files.modules.get(&path[..n]).map(|f| (n, f)))?;
    let reexported = path.get(length).and_then(|next| {
        reexports
            .get(file)
            .and_then(|list| list.iter().find(|(name, _)| name == next))
            .map(|(_, to)| to)
    });
    if depth < 8
        && let Some(to) = reexported
    {
        let mut onward = to.clone();
        onward.extend(path[length + 1..].iter().cloned());
        if let Some(found) = resolve(files, reexports, &onward, depth + 1) {
            return Some(found);
        }
    }
    Some(file.clone())
}

/// The circles in a graph: its strongly connected components of more than one file (every file
/// in one reaches every other), found with Tarjan's algorithm. One component is one knot to untie,
/// however many loops run through it, so the report stays short.
fn circles(edges: &Edges) -> Vec<BTreeSet<PathBuf>> {
    #[derive(Default)]
    struct Tarjan<'a> {
        edges: Option<&'a Edges>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        out: Vec<BTreeSet<PathBuf>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a PathBuf) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            let edges = self.edges.expect("set before the walk");
            for next in edges.get(node).into_iter().flat_map(|m| m.keys()) {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.insert(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.out.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        edges: Some(edges),
        ..Tarjan::default()
    };
    for node in edges.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.out
}

/// The imports inside one circle, as `file:line -> file`, so the reader sees which lines to move.
fn describe(circle: &BTreeSet<PathBuf>, edges: &Edges, repo: &Path) -> String {
    let mut text = String::new();
    for from in circle {
        for (to, line) in edges.get(from).into_iter().flatten() {
            if circle.contains(to) {
                let from = from.strip_prefix(repo).unwrap_or(from);
                let to = to.strip_prefix(repo).unwrap_or(to);
                text.push_str(&format!(
                    "  {}:{line} -> {}\n",
                    from.display(),
                    to.display()
                ));
            }
        }
    }
    text
}

#[test]
fn no_file_in_src_or_crates_imports_another_that_imports_it_back() {
    let repo = repo_root();
    let mut report = String::new();
    for files in crates() {
        let edges = edges(&files);
        assert!(
            edges.len() > 5,
            "{}: the checker found almost no imports; it is broken",
            files.root.display()
        );
        for circle in circles(&edges) {
            report.push_str(&format!("circle:\n{}", describe(&circle, &edges, &repo)));
        }
    }
    assert!(
        report.is_empty(),
        "import circles (file:line -> file):\n{report}"
    );
}

/// A planted crate of `files` (path below `src/`, text): its edges and the files of each circle,
/// named below `src/`.
fn planted(files: &[(&str, &str)]) -> (Edges, Vec<BTreeSet<PathBuf>>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("src");
    for (path, text) in files {
        let file = root.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    let edges = edges(&crate_files(root.clone()));
    let found = circles(&edges)
        .iter()
        .map(|circle| {
            circle
                .iter()
                .map(|f| f.strip_prefix(&root).unwrap().to_path_buf())
                .collect()
        })
        .collect();
    let edges = edges
        .into_iter()
        .map(|(from, to)| {
            let below = |f: &Path| f.strip_prefix(&root).unwrap().to_path_buf();
            let to = to.into_iter().map(|(t, line)| (below(&t), line)).collect();
            (below(&from), to)
        })
        .collect();
    (edges, found)
}

/// The set of files `names`.
fn files_named(names: &[&str]) -> BTreeSet<PathBuf> {
    names.iter().map(PathBuf::from).collect()
}

#[test]
fn the_circle_checker_sees_a_circle_through_a_reexport() {
    let (edges, found) = planted(&[
        ("lib.rs", "mod part;\nmod other;\n"),
        ("part/mod.rs", "mod inner;\npub use inner::Thing;\n"),
        (
            "part/inner.rs",
            "pub struct Thing;\nfn f() -> crate::other::Other { todo!() }\n",
        ),
        (
            "other.rs",
            "use crate::part::Thing;\npub struct Other;\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
    ]);
    assert_eq!(
        found,
        vec![files_named(&["other.rs", "part/inner.rs"])],
        "edges: {edges:?}"
    );
}

#[test]
fn the_circle_checker_sees_a_circle_through_a_child_named_without_self() {
    let (edges, found) = planted(&[
        ("lib.rs", "mod part;\n"),
        (
            "part/mod.rs",
            "mod inner;\nmod leaf;\npub struct Shared;\nfn f() { inner::run(); }\nuse leaf::Leaf;\n",
        ),
        ("part/inner.rs", "pub fn run() { let _ = super::Shared; }\n"),
        ("part/leaf.rs", "pub struct Leaf;\n"),
    ]);
    assert_eq!(
        found,
        vec![files_named(&["part/inner.rs", "part/mod.rs"])],
        "edges: {edges:?}"
    );
    assert!(
        edges[Path::new("part/mod.rs")].contains_key(Path::new("part/leaf.rs")),
        "a `use leaf::Leaf;` is an edge to leaf.rs: {edges:?}"
    );
}

/// Every path a file writes, as written (`std::process::Command`), or made absolute when it starts
/// at `crate`, `super` or `self` (`crate::harness::plan`), each with its line: what the rules below
/// forbid a part to name.
fn written_paths(file: &Path, module: &[String]) -> Vec<(String, usize)> {
    #[derive(Default)]
    struct Written {
        paths: Paths,
        out: Vec<(String, usize)>,
    }
    impl Written {
        fn push(&mut self, segments: &[String], line: usize) {
            let text = match self.paths.absolute(segments) {
                Some(absolute) => std::iter::once("crate".to_string())
                    .chain(absolute)
                    .collect::<Vec<_>>()
                    .join("::"),
                None => segments.join("::"),
            };
            self.out.push((text, line));
        }
        fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
            match tree {
                syn::UseTree::Path(p) => {
                    prefix.push(p.ident.to_string());
                    self.tree(prefix, &p.tree, line);
                    prefix.pop();
                }
                syn::UseTree::Name(n) => {
                    prefix.push(n.ident.to_string());
                    self.push(prefix, line);
                    prefix.pop();
                }
                syn::UseTree::Rename(r) => {
                    prefix.push(r.ident.to_string());
                    self.push(prefix, line);
                    prefix.pop();
                }
                syn::UseTree::Glob(_) => self.push(prefix, line),
                syn::UseTree::Group(g) => {
                    for item in &g.items {
                        self.tree(prefix, item, line);
                    }
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Written {
        fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
            self.paths.here.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.paths.here.pop();
        }
        fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
            let line = item.use_token.span.start().line;
            self.tree(&mut Vec::new(), &item.tree, line);
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            if segments.len() > 1 {
                self.push(&segments, path.segments[0].ident.span().start().line);
            }
            syn::visit::visit_path(self, path);
        }
    }
    let text = fs::read_to_string(file).expect("source file is readable");
    let ast =
        syn::parse_file(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
    let mut written = Written::default();
    written.paths.here = module.to_vec();
    written.visit_file(&ast);
    written.out
}

/// The files of the plugin crate (`src/`) whose repository path starts with one of `folders`, with
/// every path each one writes that starts with one of `forbidden`, as `file:line: path`.
fn forbidden_paths(folders: &[&str], forbidden: &[&str]) -> Vec<String> {
    let repo = repo_root();
    let files = crate_files(repo.join("src"));
    assert!(
        files.modules.len() > 20,
        "the plugin's files were not found"
    );
    let mut found = Vec::new();
    let mut checked = 0;
    for (module, file) in &files.modules {
        let relative = file
            .strip_prefix(&repo)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !folders.iter().any(|f| relative.starts_with(f)) {
            continue;
        }
        checked += 1;
        for (path, line) in written_paths(file, module) {
            let hit = forbidden
                .iter()
                .any(|f| path == *f || path.starts_with(&format!("{f}::")));
            if hit {
                found.push(format!("{relative}:{line}: {path}"));
            }
        }
    }
    assert!(checked > 0, "no file of {folders:?} was checked");
    found
}

#[test]
fn the_written_paths_see_a_process_however_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.rs");
    fs::write(
        &file,
        "use std::{io, process};\nfn f() { let _ = std::net::TcpListener::bind(\"x\"); }\n\
         mod inner { use super::super::harness::run; }\n",
    )
    .unwrap();
    let written: Vec<String> = written_paths(&file, &["snippets".into()])
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for expected in [
        "std::process",
        "std::net::TcpListener::bind",
        "crate::harness::run",
    ] {
        assert!(
            written.iter().any(|p| p == expected),
            "{expected} in {written:?}"
        );
    }
}

/// Extraction runs nothing: reading the book for its snippets (`src/snippets/`) starts no process,
/// opens no socket and takes nothing from the parts that do (the harness, the commands, the mock
/// Hub), so `mdbook-hubcheck test --list` and the preprocessor can use it on any book safely.
#[test]
fn extraction_runs_nothing() {
    let found = forbidden_paths(
        &["src/snippets/"],
        &[
            "std::process",
            "tokio",
            "std::net",
            "mock_hub",
            "crate::hub",
            "crate::server",
            "crate::harness",
            "crate::commands",
        ],
    );
    assert!(
        found.is_empty(),
        "extraction names what runs things:\n{}",
        found.join("\n")
    );
}

/// Building the book starts no server: the preprocessor, the widgets and `build` start no process,
/// open no socket, and take nothing from the mock Hub, the harness or the serving commands, so a
/// stock `mdbook build` with the plugin needs nothing but the book.
#[test]
fn building_the_book_starts_no_server() {
    let found = forbidden_paths(
        &["src/preprocess/", "src/widgets/", "src/commands/build.rs"],
        &[
            "std::process",
            "tokio",
            "std::net",
            "axum",
            "hyper",
            "reqwest",
            "mock_hub",
            "crate::hub",
            "crate::server",
            "crate::harness",
            "crate::commands::serve",
            "crate::commands::test",
            "crate::commands::mock_hub",
        ],
    );
    assert!(
        found.is_empty(),
        "building names what serves or runs:\n{}",
        found.join("\n")
    );
}

/// The mock Hub stands alone: its package depends on nothing of the plugin and on no mdBook crate
/// (`cargo metadata`), and none of its files names one, so another project can take it alone.
#[test]
fn the_mock_hub_stands_alone() {
    let output = run_cargo([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]);
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        members.contains(&"mdbook-hubcheck") && members.contains(&"hubcheck-mock-hub"),
        "workspace members: {members:?}"
    );
    let hub = packages
        .iter()
        .find(|p| p["name"] == "hubcheck-mock-hub")
        .unwrap();
    let deps: Vec<&str> = hub["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        deps.len() > 5,
        "the mock Hub's dependencies were not read: {deps:?}"
    );
    let plugin_deps: Vec<&&str> = deps.iter().filter(|d| d.starts_with("mdbook")).collect();
    assert!(
        plugin_deps.is_empty(),
        "the mock Hub depends on {plugin_deps:?}"
    );

    let crate_dir = repo_root().join("crates/mock-hub");
    let mut named = Vec::new();
    let mut stack = vec![crate_dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                for (written, line) in written_paths(&path, &[]) {
                    if written.starts_with("mdbook") {
                        let relative = path.strip_prefix(repo_root()).unwrap_or(&path);
                        named.push(format!("{}:{line}: {written}", relative.display()));
                    }
                }
            }
        }
    }
    assert!(
        named.is_empty(),
        "the mock Hub names the plugin:\n{}",
        named.join("\n")
    );
}

/// docs/ARCHITECTURE.md, read.
fn architecture_page() -> String {
    fs::read_to_string(repo_root().join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md")
}

/// Every folder of `src/` and `crates/` (and the two roots), as repository paths ending in `/`.
fn source_folders() -> Vec<String> {
    let repo = repo_root();
    let mut folders = Vec::new();
    let mut stack = vec![repo.join("src"), repo.join("crates")];
    while let Some(dir) = stack.pop() {
        let relative = dir
            .strip_prefix(&repo)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        folders.push(format!("{relative}/"));
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "__pycache__");
            if path.is_dir() && !hidden && path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            }
        }
    }
    folders.sort();
    folders
}

#[test]
fn the_architecture_page_names_every_folder_of_src_and_crates() {
    let page = architecture_page();
    let folders = source_folders();
    assert!(
        folders.iter().any(|f| f == "src/harness/") && folders.len() > 20,
        "the folders were not found: {folders:?}"
    );
    let missing: Vec<&String> = folders
        .iter()
        .filter(|f| !page.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md does not name these folders (as `path/`): {missing:?}"
    );
}

/// The test functions of the workspace: every `fn` under a `#[test]`-like attribute in `src/`,
/// `crates/` and `tests/`.
fn test_functions() -> BTreeSet<String> {
    #[derive(Default)]
    struct Tests(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Tests {
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            let is_test = item
                .attrs
                .iter()
                .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
            if is_test {
                self.0.insert(item.sig.ident.to_string());
            }
            syn::visit::visit_item_fn(self, item);
        }
    }
    let repo = repo_root();
    let mut tests = Tests::default();
    let mut stack = vec![repo.join("src"), repo.join("crates"), repo.join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|n| n != "fixtures" && n != "vendor")
            {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                if let Ok(ast) = syn::parse_file(&text) {
                    tests.visit_file(&ast);
                }
            }
        }
    }
    tests.0
}

#[test]
fn every_invariant_of_the_architecture_page_names_tests_that_exist() {
    let page = architecture_page();
    let section = page
        .split("\n## Invariants\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/ARCHITECTURE.md has an `## Invariants` section");
    let tests = test_functions();
    assert!(
        tests.contains("the_architecture_page_names_every_folder_of_src_and_crates"),
        "the test functions were not found"
    );
    let invariants: Vec<&str> = section.split("\n### ").skip(1).collect();
    assert!(
        invariants.len() >= 4,
        "too few invariants: {}",
        invariants.len()
    );
    let mut problems = Vec::new();
    for invariant in invariants {
        let title = invariant.lines().next().unwrap_or_default();
        let Some(checked) = invariant.split("Checked by:").nth(1) else {
            problems.push(format!("`{title}` names no test (`Checked by: ...`)"));
            continue;
        };
        let names: Vec<&str> = checked.split('`').skip(1).step_by(2).collect();
        if names.is_empty() {
            problems.push(format!("`{title}` names no test after `Checked by:`"));
        }
        for name in names {
            if !tests.contains(name) {
                problems.push(format!("`{title}`: no test is called `{name}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
