//! jq, the JSON processor, on the jaq crates (jaq-core's interpreter, jaq-std's
//! library, jaq-json's values, tied together by jaq-all): jq 1.6's options
//! `-r -j -c -n -s -R -e -S --tab --indent --arg --argjson --slurpfile --rawfile
//! --args --jsonargs -f`.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};

use jaq_all::data::{self, Ctx, Data, DataKind, Runner};
use jaq_all::jaq_core::native::{self, Fun};
use jaq_all::jaq_core::{ValT, Vars};
use jaq_all::jaq_std::input::RcIter;
use jaq_all::json::Val;
use jaq_all::json::write::Pp;
use jaq_fmts::write::tabular::Row;

use super::{args, help, strerror};

const HELP: &str = "Usage:\tjq [OPTIONS] FILTER [FILES...]
\tjq [OPTIONS] --args FILTER [STRINGS...]
\tjq [OPTIONS] --jsonargs FILTER [JSON_TEXTS...]

jq is a tool for processing JSON inputs, applying the given filter to
its JSON text inputs and producing the filter's results as JSON on
standard output (jq's language, as the jaq crates implement it).

Some of the options include:
  -c, --compact-output      compact instead of pretty-printed output;
  -n, --null-input          use `null` as the single input value;
  -e, --exit-status         set the exit status code based on the output;
  -s, --slurp               read (slurp) all inputs into an array; apply filter to it;
  -r, --raw-output          output raw strings, not JSON texts;
  -j, --join-output         like -r but without a newline after each output;
  -R, --raw-input           each line of input is a string (the whole input with -s);
  -S, --sort-keys           sort keys of objects on output;
  -C, -M                    accepted; output is never coloured;
      --tab                 use tabs for indentation;
      --indent n            use the given number of spaces (no more than 7) for indentation;
  -f, --from-file file      read the filter from file; every argument is then an input file;
      --arg a v             set variable $a to value <v>;
      --argjson a v         set variable $a to JSON value <v>;
      --slurpfile a f       set variable $a to an array of JSON texts read from <f>;
      --rawfile a f         set variable $a to a string consisting of the contents of <f>;
      --args                remaining arguments are string arguments, not files;
      --jsonargs            remaining arguments are JSON arguments, not files;
      --help                display this help and exit

Exit status: 0, 1 with -e when the last output was false or null, 4 with -e
when there was none, 2 for usage and I/O problems, 3 for a filter that does
not compile, 5 for a run-time error.
";

/// The command line, parsed.
#[derive(Default)]
struct Opts {
    raw_out: bool,
    join: bool,
    compact: bool,
    null_input: bool,
    slurp: bool,
    raw_in: bool,
    exit_status: bool,
    sort_keys: bool,
    indent: Option<String>,
    filter: Option<String>,
    from_file: Option<String>,
    files: Vec<String>,
    named: Vec<(String, Val)>,
    positional: Vec<Val>,
}

/// How a run ended badly: the message (if any) and the exit status.
struct Fail(Option<String>, i32);

fn usage(msg: String) -> Fail {
    Fail(
        Some(format!(
            "{msg}\nUse jq --help for help with command-line options"
        )),
        2,
    )
}

fn read_text(path: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path)
        .map_err(|e| Fail(Some(format!("Could not open {path}: {}", strerror(&e))), 2))
}

fn parse_json(text: &str, what: &str) -> Result<Val, Fail> {
    jaq_all::json::read::parse_single(text.as_bytes())
        .map_err(|e| usage(format!("Invalid JSON text passed to {what}: {e}")))
}

fn parse_opts(a: Vec<String>) -> Result<Opts, Fail> {
    let mut o = Opts::default();
    let mut rest = Vec::new();
    // What the words after the filter are: files, --args strings or --jsonargs texts.
    let mut positional_mode = 0u8;
    let mut it = a.into_iter();
    let mut options_done = false;
    while let Some(w) = it.next() {
        if options_done || !w.starts_with('-') || w == "-" {
            match positional_mode {
                _ if o.filter.is_none() && o.from_file.is_none() => o.filter = Some(w),
                1 => o.positional.push(Val::from(w)),
                2 => o.positional.push(parse_json(&w, "--jsonargs")?),
                _ => rest.push(w),
            }
            continue;
        }
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| usage(format!("jq: error: {name} takes a parameter")))
        };
        match w.as_str() {
            "--" => options_done = true,
            "--raw-output" => o.raw_out = true,
            "--join-output" => (o.raw_out, o.join) = (true, true),
            "--compact-output" => o.compact = true,
            "--null-input" => o.null_input = true,
            "--slurp" => o.slurp = true,
            "--raw-input" => o.raw_in = true,
            "--exit-status" => o.exit_status = true,
            "--sort-keys" => o.sort_keys = true,
            "--color-output" | "--monochrome-output" | "--ascii-output" => {}
            "--tab" => o.indent = Some("\t".into()),
            "--indent" => {
                let n = value("--indent")?;
                match n.parse::<usize>() {
                    Ok(n) if n <= 7 => o.indent = Some(" ".repeat(n)),
                    _ => return Err(usage("jq: Cannot indent more than 7 characters".into())),
                }
            }
            "--from-file" => o.from_file = Some(value("--from-file")?),
            "--args" => positional_mode = 1,
            "--jsonargs" => positional_mode = 2,
            "--arg" | "--argjson" | "--slurpfile" | "--rawfile" => {
                let name = value(&w)?;
                let v = value(&w)?;
                let v = match w.as_str() {
                    "--arg" => Val::from(v),
                    "--argjson" => parse_json(&v, "--argjson")?,
                    "--rawfile" => Val::from(read_text(&v)?),
                    _ => {
                        let text = read_text(&v)?;
                        let vals: Result<Vec<Val>, _> =
                            jaq_all::json::read::parse_many(text.as_bytes()).collect();
                        let vals = vals.map_err(|e| {
                            usage(format!("jq: Bad JSON in --slurpfile {name} {v}: {e}"))
                        })?;
                        vals.into_iter().collect()
                    }
                };
                o.named.retain(|(n, _)| *n != name);
                o.named.push((name, v));
            }
            long if long.starts_with("--") => {
                return Err(usage(format!("jq: Unknown option: {long}")));
            }
            short => {
                for c in short[1..].chars() {
                    match c {
                        'r' => o.raw_out = true,
                        'j' => (o.raw_out, o.join) = (true, true),
                        'c' => o.compact = true,
                        'n' => o.null_input = true,
                        's' => o.slurp = true,
                        'R' => o.raw_in = true,
                        'e' => o.exit_status = true,
                        'S' => o.sort_keys = true,
                        'C' | 'M' | 'a' => {}
                        'f' => o.from_file = Some(value("-f")?),
                        _ => return Err(usage(format!("jq: Unknown option: {short}"))),
                    }
                }
            }
        }
    }
    // With -f, the filter word (if one was taken) is the first input file.
    if o.from_file.is_some()
        && let Some(f) = o.filter.take()
    {
        rest.insert(0, f);
    }
    o.files = rest;
    Ok(o)
}

/// The values to run the filter on: JSON texts, or lines (-R) of the inputs.
fn inputs(o: &Opts) -> Result<Vec<Result<Val, String>>, Fail> {
    let mut bytes = Vec::new();
    if o.files.is_empty() {
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Fail(Some(format!("jq: error: {}", strerror(&e))), 2))?;
    } else {
        for f in &o.files {
            let mut h = std::fs::File::open(f).map_err(|e| {
                Fail(
                    Some(format!("jq: error: Could not open {f}: {}", strerror(&e))),
                    2,
                )
            })?;
            h.read_to_end(&mut bytes)
                .map_err(|e| Fail(Some(format!("jq: error: {f}: {}", strerror(&e))), 2))?;
        }
    }
    if o.raw_in {
        if o.slurp {
            return Ok(vec![Ok(Val::from(
                String::from_utf8_lossy(&bytes).into_owned(),
            ))]);
        }
        return Ok(bytes
            .lines()
            .map(|l| Ok(Val::from(l.unwrap_or_default())))
            .collect());
    }
    let vals = jaq_all::json::read::parse_many(&bytes).map(|r| r.map_err(|e| e.to_string()));
    if o.slurp {
        let all: Result<Vec<Val>, String> = vals.collect();
        return Ok(vec![all.map(|v| v.into_iter().collect())]);
    }
    Ok(vals.collect())
}

/// A value as one CSV (`csv`) or TSV row, by jaq-fmts' table writer.
fn row(v: &Val, csv: bool) -> Result<Val, jaq_all::json::Error> {
    let fail = |e: &dyn std::fmt::Display| {
        let kind = if csv { "CSV" } else { "TSV" };
        jaq_all::json::Error::str(format_args!("cannot serialise {v} as {kind}: {e}"))
    };
    let row = Row::try_from(v).map_err(|e| fail(&e))?;
    let mut buf = Vec::new();
    let written = if csv {
        row.write_csv(&mut buf)
    } else {
        row.write_tsv(&mut buf)
    };
    written.map_err(|e| fail(&e))?;
    Ok(Val::utf8_str(buf))
}

/// jq's `@csv` and `@tsv`: jaq-all registers them only together with its other
/// formats (YAML, CBOR, TOML, XML), which the userland leaves out.
fn tabular_funs() -> [Fun<DataKind>; 2] {
    [
        native::run(("@csv", native::v(0), |cv| native::bome(row(&cv.1, true)))),
        native::run(("@tsv", native::v(0), |cv| native::bome(row(&cv.1, false)))),
    ]
}

fn run(o: Opts) -> Result<i32, Fail> {
    let code = match (&o.from_file, &o.filter) {
        (Some(f), _) => read_text(f)?,
        (None, Some(f)) => f.clone(),
        // jq 1.6 runs `.` when no filter is given (and stdin or stdout is no terminal).
        (None, None) => ".".to_string(),
    };
    // Global variables: the named ones, $ENV, and $ARGS as jq builds it.
    let mut names: Vec<String> = o.named.iter().map(|(n, _)| n.clone()).collect();
    let mut vals: Vec<Val> = o.named.iter().map(|(_, v)| v.clone()).collect();
    let named = Val::obj(
        o.named
            .iter()
            .map(|(n, v)| (Val::from(n.clone()), v.clone()))
            .collect(),
    );
    let positional: Val = o.positional.iter().cloned().collect();
    let obj = [
        (Val::from("positional".to_string()), positional),
        (Val::from("named".to_string()), named),
    ];
    names.push("ARGS".into());
    vals.push(Val::obj(obj.into_iter().collect()));
    names.push("ENV".into());
    let env = std::env::vars().map(|(k, v)| (Val::from(k), Val::from(v)));
    vals.push(Val::obj(env.collect()));

    let filter = jaq_all::compile_with(
        &code,
        jaq_all::defs(),
        data::base_funs().chain(tabular_funs()),
        &names,
    )
    .map_err(|reports| {
        let text: String = reports
            .iter()
            .map(|r| jaq_all::load::FileReportsDisp::new(r).to_string())
            .collect();
        Fail(Some(format!("jq: error: {}jq: 1 compile error", text)), 3)
    })?;

    let runner = Runner::default();
    let pp = Pp {
        indent: (!o.compact).then(|| o.indent.clone().unwrap_or_else(|| "  ".into())),
        sort_keys: o.sort_keys,
        sep_space: !o.compact,
        ..Pp::default()
    };
    let input_filename = Val::Null;
    let values = inputs(&o)?;
    let values: Box<dyn Iterator<Item = Result<Val, String>>> = Box::new(values.into_iter());
    let data = Data {
        runner: &runner,
        lut: &filter.lut,
        inputs: &RcIter::new(values),
        input_filename: &input_filename,
    };
    let ctx = Ctx::new(&data, Vars::new(vals));
    // -n runs the filter once on null; `input`/`inputs` still read the inputs.
    let null = RcIter::new(std::iter::once(Ok::<Val, String>(Val::Null)));
    let (mut null_iter, mut input_iter) = (&null, data.inputs);
    let tops: &mut dyn Iterator<Item = Result<Val, String>> = if o.null_input {
        &mut null_iter
    } else {
        &mut input_iter
    };

    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut last: Option<bool> = None;
    let mut status = 0;
    for top in tops {
        let top = match top {
            Ok(v) => v,
            Err(e) => {
                let _ = out.flush();
                eprintln!("jq: error (at <stdin>:0): Cannot parse input: {e}");
                // jq 1.6's status for input that is not JSON.
                return Ok(4);
            }
        };
        // An error ends the run on this input (jq reports it and goes on with the next).
        for v in filter.id.run((ctx.clone(), top)) {
            let v = match v {
                Ok(v) => v,
                Err(e) => match e.get_halt() {
                    Ok(code) => {
                        let _ = out.flush();
                        return Ok(code);
                    }
                    Err(e) => {
                        let msg = e
                            .get_err()
                            .map_or_else(|_| "error".into(), |e| e.to_string());
                        let _ = out.flush();
                        eprintln!("jq: error (at <stdin>:0): {msg}");
                        status = 5;
                        break;
                    }
                },
            };
            last = Some(v.as_bool());
            let raw = match &v {
                Val::TStr(b) | Val::BStr(b) if o.raw_out => Some(b),
                _ => None,
            };
            let written = match raw {
                Some(b) => out.write_all(b),
                None => jaq_all::json::write::write(&mut out, &pp, 0, &v),
            };
            let end: &[u8] = if o.join { b"" } else { b"\n" };
            if let Err(e) = written.and_then(|()| out.write_all(end)) {
                return Err(Fail(Some(format!("jq: error: {}", strerror(&e))), 2));
            }
        }
    }
    if let Err(e) = out.flush() {
        return Err(Fail(Some(format!("jq: error: {}", strerror(&e))), 2));
    }
    if status != 0 {
        return Ok(status);
    }
    if o.exit_status {
        return Ok(match last {
            None => 4,
            Some(true) => 0,
            Some(false) => 1,
        });
    }
    Ok(0)
}

/// Runs jq.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    // jq also takes -h for help.
    let short_help = a.iter().take_while(|w| *w != "--").any(|w| w == "-h");
    if help(&a, HELP) || short_help && help(&["--help".to_string()], HELP) {
        return 0;
    }
    let result = parse_opts(a).and_then(run);
    match result {
        Ok(code) => code,
        Err(Fail(msg, code)) => {
            if let Some(m) = msg {
                eprintln!("{m}");
            }
            code
        }
    }
}
