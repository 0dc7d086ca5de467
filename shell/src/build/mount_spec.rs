//! Mount specifications as Docker and BuildKit write them: `RUN --mount=...` of a
//! Balenafile ([`parse_spec`]; run_mount.rs attaches them), and `wsh run`'s
//! `-v SRC:DST[:OPTS]` ([`parse_volume`]) and `--mount type=bind|tmpfs,...`
//! ([`parse_run_mount`]).

use std::path::PathBuf;

/// One parsed `--mount` value.
#[derive(Debug, Clone, PartialEq)]
pub struct MountSpec {
    /// `target`/`dst`/`destination` (relative paths follow WORKDIR; empty is WORKDIR).
    pub target: String,
    /// What is mounted there.
    pub kind: Kind,
}

/// The mount types wsh implements.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A directory of the context, or of `from` (a stage or an image).
    Bind {
        /// `source`/`src`: the directory below the root of `from` or the context.
        source: String,
        /// `from=STAGE|IMAGE`.
        from: Option<String>,
        /// `rw`: writable, the writes discarded after the step.
        rw: bool,
    },
    /// A persistent cache directory.
    Cache {
        /// `id` (default: the target as written).
        id: Option<String>,
        /// `sharing=`.
        sharing: Sharing,
        /// `ro`: read-only.
        readonly: bool,
        /// `mode=` of a new cache directory (octal; default 0755).
        mode: Option<u32>,
        /// `uid=` of a new cache directory.
        uid: Option<u32>,
        /// `gid=` of a new cache directory.
        gid: Option<u32>,
        /// `from=STAGE|IMAGE`: a new cache directory starts as a copy of its `source`.
        from: Option<String>,
        /// `source`: the directory of `from` to start from.
        source: String,
    },
    /// An empty directory for the step only.
    Tmpfs {
        /// `size=` in bytes.
        size: Option<u64>,
        /// `ro`: read-only (and so always empty).
        readonly: bool,
    },
}

/// `sharing=` of a cache mount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sharing {
    /// Concurrent builds use it together (the default).
    Shared,
    /// A concurrent build gets an empty directory of its own.
    Private,
    /// A concurrent build waits for it.
    Locked,
}

/// Splits a value into fields as Go's `encoding/csv` does (BuildKit reads the flag
/// with it): `,` separates, a field in `"` may hold `,`, and `""` is a quote there
/// (the `csv` crate is lenient where Go errors: an unclosed quote runs to the end).
pub(super) fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .double_quote(true)
        .from_reader(s.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Ok(vec![String::new()]),
        Err(e) => return Err(format!("--mount={s}: {e}")),
    }
    let fields: Vec<String> = record.iter().map(String::from).collect();
    // One line only: a value with a newline is not a mount spec.
    if reader.read_record(&mut record).unwrap_or(false) {
        return Err(format!("--mount={s}: more than one line"));
    }
    Ok(fields)
}

/// `true`/`false` as Go's `strconv.ParseBool` reads them.
pub(super) fn parse_bool(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("RUN --mount: invalid value for {key}: {v}")),
    }
}

/// A size as Docker's `RAMInBytes` reads it: `512`, `64m`, `1.5GiB` (units of 1024).
pub(super) fn parse_size(v: &str) -> Option<u64> {
    let num_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let n: f64 = v[..num_end].parse().ok()?;
    let unit = v[num_end..].trim_start_matches(' ').to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return None,
    };
    Some((n * (1u64 << shift) as f64) as u64)
}

/// Parses one `--mount` value, each value passed through `expand` (ARG/ENV
/// substitution) first. Docker's keys and checks; secrets and SSH are refused.
pub fn parse_spec(
    raw: &str,
    expand: &dyn Fn(&str) -> Result<String, String>,
) -> Result<MountSpec, String> {
    let fields = csv_fields(raw)?;
    let mut pairs = Vec::new();
    for f in &fields {
        let (k, v) = match f.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(expand(v)?)),
            None => (f.to_lowercase(), None),
        };
        pairs.push((k, v));
    }
    let ty = match pairs.iter().rev().find(|(k, _)| k == "type") {
        Some((_, Some(t))) => t.to_lowercase(),
        Some((_, None)) => return Err("RUN --mount: type needs a value".into()),
        None => "bind".into(),
    };
    match ty.as_str() {
        "bind" | "cache" | "tmpfs" => {}
        "secret" | "ssh" => {
            return Err(format!(
                "RUN --mount=type={ty} is not supported (wsh builds have no secrets or SSH agent to hand to a step)"
            ));
        }
        _ => {
            return Err(format!(
                "RUN --mount: unsupported mount type {ty:?} (expected bind, cache or tmpfs)"
            ));
        }
    }
    let (mut target, mut source, mut from, mut id) = (String::new(), None, None, None);
    let (mut ro, mut sharing, mut size) = (None, None, None);
    let (mut mode, mut uid, mut gid) = (None, None, None);
    let num = |k: &str, v: &str, radix: u32| {
        u32::from_str_radix(v, radix).map_err(|_| format!("RUN --mount: invalid value {v} for {k}"))
    };
    for (k, v) in &pairs {
        let Some(v) = v else {
            match k.as_str() {
                "ro" | "readonly" => ro = Some(true),
                "rw" | "readwrite" => ro = Some(false),
                _ => {
                    return Err(format!(
                        "RUN --mount: invalid field '{k}' must be a key=value pair"
                    ));
                }
            }
            continue;
        };
        match k.as_str() {
            "type" => {}
            "target" | "dst" | "destination" => target = v.clone(),
            "source" | "src" => source = Some(v.clone()),
            "from" => from = Some(v.clone()),
            "id" => id = Some(v.clone()),
            "ro" | "readonly" => ro = Some(parse_bool(k, v)?),
            "rw" | "readwrite" => ro = Some(!parse_bool(k, v)?),
            "sharing" if ty == "cache" => {
                sharing = Some(match v.to_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => {
                        return Err(format!(
                            "RUN --mount: unsupported sharing value {v:?} (expected shared, private or locked)"
                        ));
                    }
                })
            }
            "sharing" => {
                return Err(format!(
                    "RUN --mount: invalid cache sharing set for {ty} mount"
                ));
            }
            "size" if ty == "tmpfs" => {
                size = Some(
                    parse_size(v)
                        .ok_or_else(|| format!("RUN --mount: invalid value for size: {v}"))?,
                )
            }
            "mode" | "uid" | "gid" if ty != "cache" => {
                return Err(format!(
                    "RUN --mount: {k} not allowed for {ty:?} type mounts"
                ));
            }
            "mode" => mode = Some(num(k, v, 8)?),
            "uid" => uid = Some(num(k, v, 10)?),
            "gid" => gid = Some(num(k, v, 10)?),
            "size" | "required" => {
                return Err(format!(
                    "RUN --mount: unexpected key '{k}' for mount type '{ty}'"
                ));
            }
            _ => return Err(format!("RUN --mount: unexpected key '{k}' in '{k}={v}'")),
        }
    }
    let kind = match ty.as_str() {
        "bind" => Kind::Bind {
            source: source.unwrap_or_default(),
            from,
            rw: ro == Some(false),
        },
        "cache" => {
            if from.is_none() && source.is_some() {
                return Err(
                    "RUN --mount=type=cache: source= without from= is not supported (a cache starts empty)"
                        .into(),
                );
            }
            Kind::Cache {
                id,
                sharing: sharing.unwrap_or(Sharing::Shared),
                readonly: ro == Some(true),
                mode,
                uid,
                gid,
                from,
                source: source.unwrap_or_default(),
            }
        }
        _ => {
            if from.is_some() || source.is_some() {
                return Err("RUN --mount=type=tmpfs takes no from= or source=".into());
            }
            Kind::Tmpfs {
                size,
                readonly: ro == Some(true),
            }
        }
    };
    Ok(MountSpec { target, kind })
}

/// Where a `wsh run` volume's files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// A host directory (`-v HOST:...`, `--mount type=bind,source=HOST`).
    Host(PathBuf),
    /// A fresh empty directory, removed when the container ends (`--mount type=tmpfs`).
    Tmpfs,
}

/// One `-v` or `--mount` of `wsh run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// What is mounted.
    pub source: VolumeSource,
    /// Where the container sees it (absolute).
    pub guest: String,
    /// The container may not change it.
    pub readonly: bool,
}

/// Checks a container path: absolute, and not the root.
fn guest_path(flag: &str, s: &str, guest: &str) -> Result<String, String> {
    if !guest.starts_with('/') {
        return Err(format!(
            "{flag} {s}: the container path {guest:?} must be absolute"
        ));
    }
    if guest.trim_end_matches('/').is_empty() {
        return Err(format!(
            "{flag} {s}: cannot mount over the container's root"
        ));
    }
    Ok(guest.to_string())
}

/// Parses Docker's `-v SRC:DST[:OPTS]`: OPTS are comma-separated, `ro` or `rw` (at most
/// one), and options that have no effect here but that Docker users pass: `z`/`Z`
/// (SELinux relabelling: wsh labels nothing), `consistent`/`cached`/`delegated` (macOS
/// file sharing) and the propagation modes (a wsh mount has no submounts to
/// propagate). Anything else is an error, as in Docker ("invalid mode").
pub fn parse_volume(s: &str) -> Result<Volume, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, guest, opts) = match parts.as_slice() {
        [_] => {
            return Err(format!(
                "-v {s}: anonymous volumes are not supported: give HOST:GUEST"
            ));
        }
        [h, g] => (*h, *g, ""),
        [h, g, o] => (*h, *g, *o),
        _ => {
            return Err(format!(
                "-v {s}: invalid volume specification (expected HOST:GUEST[:OPTS])"
            ));
        }
    };
    if host.is_empty() {
        return Err(format!("-v {s}: the host directory is empty"));
    }
    if !host.starts_with(['/', '.', '~']) {
        return Err(format!(
            "-v {s}: named volumes are not supported: give a host directory (a path with / or .)"
        ));
    }
    let guest = guest_path("-v", s, guest)?;
    let mut readonly = None;
    let mut seen = Vec::new();
    for o in opts.split(',').filter(|_| parts.len() == 3) {
        if o.is_empty() || seen.contains(&o) {
            return Err(format!("-v {s}: invalid mode: {opts}"));
        }
        seen.push(o);
        match o {
            "ro" | "rw" if readonly.is_some() => {
                return Err(format!("-v {s}: invalid mode: {opts} (ro and rw together)"));
            }
            "ro" => readonly = Some(true),
            "rw" => readonly = Some(false),
            "z" | "Z" | "consistent" | "cached" | "delegated" | "shared" | "rshared" | "slave"
            | "rslave" | "private" | "rprivate" => {}
            "nocopy" => {
                return Err(format!(
                    "-v {s}: nocopy applies to named volumes, which wsh does not have"
                ));
            }
            _ => return Err(format!("-v {s}: invalid mode: {o}")),
        }
    }
    Ok(Volume {
        source: VolumeSource::Host(PathBuf::from(host)),
        guest,
        readonly: readonly.unwrap_or(false),
    })
}

/// Parses `wsh run --mount`: Docker's `type=bind,source=,target=[,readonly]` and
/// `type=tmpfs,target=`. Keys and values as Docker reads them (CSV fields, `src`,
/// `dst`/`destination`, `ro`/`readonly[=BOOL]`); `bind-propagation`, `consistency`
/// and `tmpfs-mode` are accepted without effect; volume mounts (Docker's default
/// type) are refused, as wsh has no named volumes.
pub fn parse_run_mount(s: &str) -> Result<Volume, String> {
    let fields = csv_fields(s)?;
    let err = |why: String| format!("--mount {s}: {why}");
    let (mut ty, mut source, mut target, mut readonly) = (None, None, None, false);
    for f in &fields {
        let (k, v) = match f.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (f.to_lowercase(), None),
        };
        match (k.as_str(), v) {
            ("type", Some(v)) => ty = Some(v.to_string()),
            ("source" | "src", Some(v)) => source = Some(v.to_string()),
            ("target" | "dst" | "destination", Some(v)) => target = Some(v.to_string()),
            ("readonly" | "ro", None) => readonly = true,
            ("readonly" | "ro", Some(v)) => {
                readonly =
                    parse_bool(&k, v).map_err(|_| err(format!("invalid value for {k}: {v}")))?
            }
            ("bind-propagation" | "consistency" | "tmpfs-mode", Some(_)) => {}
            ("tmpfs-size", Some(v)) => {
                parse_size(v).ok_or_else(|| err(format!("invalid value for tmpfs-size: {v}")))?;
            }
            (_, None) => return Err(err(format!("invalid field '{f}' must be a key=value pair"))),
            (_, Some(_)) => return Err(err(format!("unexpected key '{k}' in '{f}'"))),
        }
    }
    let target = target.ok_or_else(|| err("target is required".into()))?;
    let guest = guest_path("--mount", s, &target)?;
    let source = match ty.as_deref() {
        Some("bind") => {
            let src = source.ok_or_else(|| err("source is required when type is bind".into()))?;
            VolumeSource::Host(PathBuf::from(src))
        }
        Some("tmpfs") => {
            if source.is_some() {
                return Err(err("source is not allowed for tmpfs mounts".into()));
            }
            VolumeSource::Tmpfs
        }
        None | Some("volume") => {
            return Err(err(
                "volume mounts are not supported (wsh has no named volumes): use type=bind or type=tmpfs".into(),
            ));
        }
        Some(t) => {
            return Err(err(format!(
                "unsupported mount type {t:?} (expected bind or tmpfs)"
            )));
        }
    };
    Ok(Volume {
        source,
        guest,
        readonly,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<MountSpec, String> {
        parse_spec(s, &|v| Ok(v.to_string()))
    }

    #[test]
    fn bind_is_the_default_type_and_read_only() {
        let m = parse("target=/src,source=app").unwrap();
        assert_eq!(m.target, "/src");
        assert_eq!(
            m.kind,
            Kind::Bind {
                source: "app".into(),
                from: None,
                rw: false
            }
        );
        let m = parse("type=bind,dst=x,rw").unwrap();
        assert!(matches!(m.kind, Kind::Bind { rw: true, .. }));
        let m = parse("type=bind,destination=x,readwrite=true").unwrap();
        assert!(matches!(m.kind, Kind::Bind { rw: true, .. }));
    }

    #[test]
    fn cache_options_and_their_checks() {
        let m = parse("type=cache,target=/c,id=x,sharing=locked,mode=0700,uid=5,gid=6,ro").unwrap();
        assert_eq!(
            m.kind,
            Kind::Cache {
                id: Some("x".into()),
                sharing: Sharing::Locked,
                readonly: true,
                mode: Some(0o700),
                uid: Some(5),
                gid: Some(6),
                from: None,
                source: String::new(),
            }
        );
        assert!(parse("type=cache,target=/c,sharing=bogus").is_err());
        assert!(parse("type=bind,target=/c,sharing=locked").is_err());
        assert!(parse("type=bind,target=/c,mode=0700").is_err());
        assert!(parse("type=cache,target=/c,source=sub").is_err());
        assert!(parse("type=cache,target=/c,from=stage,source=sub").is_ok());
    }

    #[test]
    fn tmpfs_size_units_and_refused_types() {
        let m = parse("type=tmpfs,target=/t,size=64m").unwrap();
        assert_eq!(
            m.kind,
            Kind::Tmpfs {
                size: Some(64 << 20),
                readonly: false
            }
        );
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("x"), None);
        assert!(parse("type=bind,target=/t,size=1").is_err());
        for t in ["secret", "ssh"] {
            let e = parse(&format!("type={t},target=/s")).unwrap_err();
            assert!(e.contains("not supported"), "{e}");
        }
        assert!(parse("type=volume,target=/v").is_err());
        assert!(parse("type=bind,target=/x,bogus=1").is_err());
        assert!(parse("type=bind,target=/x,bogus").is_err());
    }

    #[test]
    fn fields_are_csv_as_in_buildkit() {
        assert_eq!(
            csv_fields(r#"a=1,"b=x,y","c=say ""hi""""#).unwrap(),
            ["a=1", "b=x,y", r#"c=say "hi""#]
        );
        // Unlike Go's reader, an unterminated quote runs to the end of the value.
        assert_eq!(csv_fields(r#"a,"b,c"#).unwrap(), ["a", "b,c"]);
    }

    fn vol(s: &str) -> Result<(PathBuf, String, bool), String> {
        parse_volume(s).map(|v| match v.source {
            VolumeSource::Host(h) => (h, v.guest, v.readonly),
            VolumeSource::Tmpfs => unreachable!("-v never makes a tmpfs"),
        })
    }

    #[test]
    fn volume_options_are_dockers_and_unknown_ones_are_errors() {
        assert_eq!(vol("/h:/g:ro").unwrap(), ("/h".into(), "/g".into(), true));
        assert!(!vol("./h:/g").unwrap().2);
        assert!(!vol("/h:/g:rw").unwrap().2);
        assert!(vol("/h:/g:ro,z").unwrap().2);
        assert!(vol("/h:/g:Z,ro").unwrap().2);
        assert!(!vol("/h:/g:z").unwrap().2);
        assert!(vol("/h:/g:rprivate,delegated,ro").unwrap().2);
        // The issue's repros: each used to mount writable at a literal "/x:..." path.
        for bad in [
            "/d:/x:RO",
            "/d:/x:r0",
            "/d:/x:bogus",
            "/d:/x:ro,rw",
            "/d:/x:ro,",
            "/d:/x:",
            "/d:/x:ro:z",
        ] {
            assert!(vol(bad).is_err(), "{bad} must be refused");
        }
        assert!(vol("/h").unwrap_err().contains("anonymous"));
        assert!(vol("name:/g").unwrap_err().contains("named volumes"));
        assert!(vol("/h:g").is_err());
        assert!(vol("/h:/").is_err());
        assert!(vol(":/g").is_err());
    }

    #[test]
    fn run_mounts_are_binds_or_tmpfs() {
        let m = parse_run_mount("type=bind,source=/h,target=/g,readonly").unwrap();
        assert_eq!(
            m,
            Volume {
                source: VolumeSource::Host("/h".into()),
                guest: "/g".into(),
                readonly: true
            }
        );
        let m =
            parse_run_mount("type=bind,src=/h,dst=/g,ro=false,bind-propagation=rprivate").unwrap();
        assert!(!m.readonly);
        let m = parse_run_mount("type=tmpfs,destination=/t,tmpfs-size=64m").unwrap();
        assert_eq!(m.source, VolumeSource::Tmpfs);
        for bad in [
            "source=/h,target=/g",
            "type=volume,source=v,target=/g",
            "type=bind,target=/g",
            "type=bind,source=/h",
            "type=bind,source=/h,target=g",
            "type=bind,source=/h,target=/g,bogus=1",
            "type=bind,source=/h,target=/g,readonly=maybe",
            "type=tmpfs,source=/h,target=/t",
            "type=nfs,source=/h,target=/g",
        ] {
            assert!(parse_run_mount(bad).is_err(), "{bad} must be refused");
        }
    }
}
