//! Whether src/channel.cpp still does what the models check: each function
//! of `sites::FUNCTIONS` must have exactly the table's sites, in the table's
//! order, and each modelled atomic operation an ordering at least as strong
//! as the model's. A C++ change that weakens, adds, removes or moves an
//! atomic operation of those functions fails here until the table (and so
//! the models, which take their orderings from it) is changed with it.
//!
//! The reading of the C++ source is deliberately simple: comments and string
//! literals are blanked out, a function is `Channel::<name>(` at the start
//! of a line up to its matching brace, and a site is found by its text
//! (`<field>.load(`, `futex::wake_all(&header_-><field>`, `<function>(`).

use crate::sites::{Model, Site, What, FUNCTIONS};
use loom::sync::atomic::Ordering::{self, AcqRel, Acquire, Relaxed, Release, SeqCst};

/// The environment variable that names the src/channel.cpp to check:
/// tests/model/run sets it to its own checkout's, and to the C++ mutants'
/// copies.
pub const SOURCE_VARIABLE: &str = "ZINC_MODEL_CHANNEL_CPP";

/// The C++ source this run checks: `ZINC_MODEL_CHANNEL_CPP`, or
/// `../../src/channel.cpp` from the working directory (tests/model, where
/// cargo test runs). Never a path fixed at build time: the build is shared
/// by every checkout on the machine (~/.cache/zinc-model-target), so a
/// binary built in one clone must not read another clone's source.
pub fn source_path() -> std::path::PathBuf {
    match std::env::var_os(SOURCE_VARIABLE) {
        Some(path) if !path.is_empty() => path.into(),
        _ => std::path::PathBuf::from("../../src/channel.cpp"),
    }
}

/// One atomic operation, futex call or call of a table function as found in
/// the C++ source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub what: What,
    /// The `std::memory_order_*` names among its arguments (none: seq_cst).
    pub orders: Vec<String>,
    /// Its line in the file, for the messages.
    pub line: usize,
}

const OPERATIONS: [&str; 3] = ["load", "store", "fetch_add"];
/// Read-modify-writes and exchanges: none in the table's functions today,
/// so one appearing there is reported as a site the table lacks.
const OTHER_OPERATIONS: [&str; 7] = [
    "fetch_sub",
    "fetch_or",
    "fetch_and",
    "fetch_xor",
    "exchange",
    "compare_exchange_strong",
    "compare_exchange_weak",
];

/// Everything the check finds wrong with `source`, one message each.
pub fn disagreements(source: &str) -> Vec<String> {
    let text = blank_comments_and_strings(source);
    let mut problems = Vec::new();
    for (function, sites) in FUNCTIONS {
        let Some((body_start, body)) = function_body(&text, function) else {
            problems.push(format!("Channel::{function} is not in the source"));
            continue;
        };
        let found = sites_in(body, body_start, &text);
        problems.extend(compare(function, sites, &found));
    }
    problems
}

/// The table's sites of one function against the ones found.
fn compare(function: &str, sites: &[(&str, &Site)], found: &[Found]) -> Vec<String> {
    let mut problems = Vec::new();
    let expected: Vec<What> = sites.iter().map(|(_, site)| site.what).collect();
    let actual: Vec<What> = found.iter().map(|f| f.what).collect();
    if expected != actual {
        problems.push(format!(
            "Channel::{function}: the model's table has {} but src/channel.cpp has {} \
             (lines {}): change tests/model/src/sites.rs and the models with the C++",
            describe(&expected),
            describe(&actual),
            found.iter().map(|f| f.line.to_string()).collect::<Vec<_>>().join(", ")
        ));
        return problems;
    }
    for ((name, site), found) in sites.iter().zip(found) {
        let Model::Ordered(model) = site.model else { continue };
        let cpp = match cpp_ordering(&found.orders) {
            Ok(ordering) => ordering,
            Err(message) => {
                problems.push(format!("Channel::{function} line {}: {message}", found.line));
                continue;
            }
        };
        if !at_least(site.what, cpp, model) {
            problems.push(format!(
                "Channel::{function} line {}: {} is {cpp:?} in src/channel.cpp, weaker than \
                 the model's {model:?} ({name}, {})",
                found.line,
                describe(&[site.what]).trim_matches(['[', ']']),
                site.spec
            ));
        }
    }
    problems
}

fn describe(whats: &[What]) -> String {
    let items: Vec<String> = whats
        .iter()
        .map(|what| match what {
            What::Load(field) => format!("{field}.load"),
            What::Store(field) => format!("{field}.store"),
            What::FetchAdd(field) => format!("{field}.fetch_add"),
            What::FutexWait(field) => format!("futex wait on {field}"),
            What::FutexWake(field) => format!("futex wake on {field}"),
            What::Call(function) => format!("{function}()"),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// The ordering a C++ operation names (its last `std::memory_order_*`
/// argument; for a futex call or a function call, none is needed).
fn cpp_ordering(orders: &[String]) -> Result<Ordering, String> {
    match orders.last().map(String::as_str) {
        None | Some("seq_cst") => Ok(SeqCst),
        Some("relaxed") => Ok(Relaxed),
        Some("acquire") => Ok(Acquire),
        Some("release") => Ok(Release),
        Some("acq_rel") => Ok(AcqRel),
        Some(other) => Err(format!("memory_order_{other} is not one the check knows")),
    }
}

/// Whether `cpp` gives everything `model` gives this kind of operation: the
/// acquire half for a load, the release half for a store, both for a
/// read-modify-write, and the single total order where the model has SeqCst.
pub fn at_least(what: What, cpp: Ordering, model: Ordering) -> bool {
    let acquires = |o: Ordering| matches!(o, Acquire | AcqRel | SeqCst);
    let releases = |o: Ordering| matches!(o, Release | AcqRel | SeqCst);
    let needs_acquire = matches!(what, What::Load(_) | What::FetchAdd(_)) && acquires(model);
    let needs_release = matches!(what, What::Store(_) | What::FetchAdd(_)) && releases(model);
    match what {
        What::FutexWait(_) | What::FutexWake(_) | What::Call(_) => true,
        _ => {
            (!needs_acquire || acquires(cpp))
                && (!needs_release || releases(cpp))
                && (model != SeqCst || cpp == SeqCst)
        }
    }
}

/// `source` with every comment and every string or character literal's
/// contents replaced by spaces (newlines kept), so that offsets and line
/// numbers stay those of the file.
pub fn blank_comments_and_strings(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = source[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
            }
            // (A quote after a digit is C++14's digit separator: 1'000'000.)
            quote @ (b'"' | b'\'') if quote == b'"' || i == 0 || !is_word(bytes[i - 1]) => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != quote {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i + 1, j.min(bytes.len()));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced")
}

/// The body (between its braces) of `Channel::<name>`'s definition: a line
/// that starts with a type and names `Channel::<name>(`.
fn function_body<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let needle = format!("Channel::{name}(");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let starts_a_definition = !line.starts_with(char::is_whitespace);
        if starts_a_definition && line.contains(&needle) {
            let open = offset + text[offset..].find('{')?;
            let close = matching(text, open, b'{', b'}')?;
            return Some((open + 1, &text[open + 1..close]));
        }
        offset += line.len();
    }
    None
}

/// The index of the bracket that closes the one at `open`.
fn matching(text: &str, open: usize, left: u8, right: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (i, byte) in text.bytes().enumerate().skip(open) {
        if byte == left {
            depth += 1;
        } else if byte == right {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The sites of one function body, in the order of the text.
fn sites_in(body: &str, body_start: usize, text: &str) -> Vec<Found> {
    let bytes = body.as_bytes();
    // One pass from left to right: the sites come out in the text's order.
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) || (i > 0 && is_word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let end = i + bytes[i..].iter().take_while(|b| is_word(**b)).count();
        let word = &body[i..end];
        let line = line_of(text, body_start + i);
        if bytes.get(end) == Some(&b'(') {
            let close = matching(body, end, b'(', b')').unwrap_or(bytes.len() - 1);
            let arguments = &body[end + 1..close];
            let after_dot = i > 0 && bytes[i - 1] == b'.';
            if after_dot && (OPERATIONS.contains(&word) || OTHER_OPERATIONS.contains(&word)) {
                let field = field_before(body, i - 1);
                let orders = memory_orders(arguments);
                let what = match word {
                    "load" => What::Load(leak(field)),
                    "store" => What::Store(leak(field)),
                    "fetch_add" => What::FetchAdd(leak(field)),
                    other => What::Call(leak(format!("{field}.{other}"))),
                };
                found.push(Found { what, orders, line });
            } else if let Some(function) = FUNCTIONS
                .iter()
                .map(|(function, _)| *function)
                .find(|function| !after_dot && *function == word && !body[..i].ends_with("::"))
            {
                found.push(Found { what: What::Call(function), orders: Vec::new(), line });
            } else if body[..i].ends_with("futex::") {
                let field = arguments.trim().trim_start_matches('&');
                let field = field.split(',').next().unwrap_or("").trim();
                let field = field.rsplit("->").next().unwrap_or(field).trim();
                // (futex's other functions, such as its clock, are no sites.)
                let what = match word {
                    "wait_until" | "wait" => Some(What::FutexWait(leak(field.to_string()))),
                    "wake_all" | "wake" | "wake_one" => {
                        Some(What::FutexWake(leak(field.to_string())))
                    }
                    _ => None,
                };
                if let Some(what) = what {
                    found.push(Found { what, orders: Vec::new(), line });
                }
            }
        }
        i = end;
    }
    found
}

/// The field an operation is applied to: the word before the `.` at `dot`,
/// skipping a call's arguments (`map_entry(frame_).store` is `map_entry`).
fn field_before(body: &str, dot: usize) -> String {
    let bytes = body.as_bytes();
    let mut end = dot;
    if end > 0 && bytes[end - 1] == b')' {
        let mut depth = 0usize;
        let mut j = end;
        while j > 0 {
            j -= 1;
            match bytes[j] {
                b')' => depth += 1,
                b'(' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        end = j;
    }
    let start = body[..end].bytes().rev().take_while(|b| is_word(*b)).count();
    body[end - start..end].to_string()
}

/// The `std::memory_order_*` (or `std::memory_order::*`) names among an
/// operation's arguments, outermost only.
fn memory_orders(arguments: &str) -> Vec<String> {
    let mut orders = Vec::new();
    let mut depth = 0usize;
    let bytes = arguments.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && arguments[i..].starts_with("memory_order") => {
                let rest = &arguments[i + "memory_order".len()..];
                let name: String = rest
                    .trim_start_matches(['_', ':'])
                    .bytes()
                    .take_while(|b| is_word(*b))
                    .map(char::from)
                    .collect();
                orders.push(name);
                i += "memory_order".len();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    orders
}

/// A `&'static str` for a name found in the source (the check runs once
/// per process; what it leaks is a few hundred bytes).
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_source() -> String {
        let path = source_path();
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// The C++ source (src/channel.cpp, or `ZINC_MODEL_CHANNEL_CPP`) has the
    /// table's sites, in its order, at least as strong as the models.
    #[test]
    fn channel_cpp_agrees_with_the_models_table() {
        let problems = disagreements(&reference_source());
        assert!(
            problems.is_empty(),
            "{} disagrees with the model:\n{}",
            source_path().display(),
            problems.join("\n")
        );
    }

    /// Every modelled site is used by a model (by its name in the models'
    /// sources), so no row of the table claims a check nothing runs, and the
    /// ones left out are not.
    #[test]
    fn every_modelled_site_is_used_by_a_model_and_no_other() {
        let models = [include_str!("lossless.rs"), include_str!("latest.rs")].concat();
        let mut problems = Vec::new();
        for (_, sites) in FUNCTIONS {
            for (name, site) in *sites {
                let used = models.contains(&format!("sites::{name}"));
                match (site.model, used, site.what) {
                    (Model::Ordered(_), false, _) => {
                        problems.push(format!("{name} is in the table but no model uses it"))
                    }
                    (Model::Left(_), true, _) => {
                        problems.push(format!("{name} is left out, but a model uses it"))
                    }
                    _ => {}
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The check bites: weakening any one modelled atomic operation of the
    /// reference source to relaxed (where the model has more) is reported
    /// at that operation's line, and so is swapping two neighbouring sites.
    #[test]
    fn weakening_or_moving_any_site_of_the_reference_is_reported() {
        let source = reference_source();
        assert!(disagreements(&source).is_empty(), "the reference must agree first");
        let text = blank_comments_and_strings(&source);
        let lines: Vec<&str> = source.split_inclusive('\n').collect();
        let mut weakened = 0;
        for (function, sites) in FUNCTIONS {
            let (start, body) = function_body(&text, function).expect("in the source");
            let found = sites_in(body, start, &text);
            for ((name, site), f) in sites.iter().zip(&found) {
                let Model::Ordered(model) = site.model else { continue };
                if at_least(site.what, Relaxed, model) {
                    continue;
                }
                let mut mutated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                let line = &mut mutated[f.line - 1];
                let order = format!("memory_order_{}", f.orders.last().map_or("seq_cst", |o| o));
                assert!(line.contains(&order), "{name}: line {} names {order}", f.line);
                *line = line.replacen(&order, "memory_order_relaxed", 1);
                let problems = disagreements(&mutated.concat());
                assert!(
                    problems
                        .iter()
                        .any(|p| p.contains(&format!("line {}:", f.line)) && p.contains(name)),
                    "{name} relaxed at line {} was not reported: {problems:?}",
                    f.line
                );
                weakened += 1;
            }
        }
        let weakenable = FUNCTIONS
            .iter()
            .flat_map(|(_, sites)| sites.iter())
            .filter(|(_, site)| match site.model {
                Model::Ordered(model) => !at_least(site.what, Relaxed, model),
                _ => false,
            })
            .count();
        assert!(weakenable > 0);
        assert_eq!(weakened, weakenable, "every site stronger than relaxed was weakened once");
        // Swap the lines of commit's seq and write_seq stores.
        let seq = "h->seq.store(2 * frame_ + 2, std::memory_order_release);";
        let write_seq = "header_->write_seq.store(frame_ + 1, std::memory_order_seq_cst);";
        assert!(source.contains(seq) && source.contains(write_seq), "commit's stores moved");
        let swapped = source.replace(seq, "@@").replace(write_seq, seq).replace("@@", write_seq);
        let problems = disagreements(&swapped);
        assert!(
            problems.iter().any(|p| p.starts_with("Channel::commit: the model's table has")),
            "swapped commit stores not reported: {problems:?}"
        );
    }

    #[test]
    fn at_least_is_the_order_of_the_halves() {
        let store = What::Store("x");
        let load = What::Load("x");
        assert!(at_least(store, SeqCst, Release));
        assert!(at_least(store, Release, Release));
        assert!(!at_least(store, Relaxed, Release));
        assert!(!at_least(store, Release, SeqCst));
        assert!(at_least(load, Acquire, Acquire));
        assert!(!at_least(load, Relaxed, Acquire));
        assert!(!at_least(load, Acquire, SeqCst));
        assert!(at_least(load, Relaxed, Relaxed));
        let rmw = What::FetchAdd("x");
        assert!(!at_least(rmw, Acquire, AcqRel));
        assert!(!at_least(rmw, Release, AcqRel));
        assert!(at_least(rmw, AcqRel, AcqRel));
        assert!(!at_least(rmw, AcqRel, SeqCst));
    }

    #[test]
    fn comments_strings_and_calls_are_read_as_the_compiler_would() {
        let text = blank_comments_and_strings(
            "a.load(1'000); // b.store(1)\n\"c.store(\" /* d.load( */ e.store(f(g), memory_order_release);\n",
        );
        assert!(!text.contains("b.store") && !text.contains("c.store") && !text.contains("d.load"));
        let found = sites_in(&text, 0, &text);
        let whats: Vec<What> = found.iter().map(|f| f.what).collect();
        assert_eq!(whats, vec![What::Load("a"), What::Store("e")]);
        assert_eq!(found[1].orders, vec!["release".to_string()]);
        assert_eq!(found[1].line, 2);
        assert_eq!(field_before("map_entry(frame_ % n).", 21), "map_entry");
    }
}
