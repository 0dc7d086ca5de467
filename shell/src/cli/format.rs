//! `--format` Go templates (Docker's `inspect --format`, `images --format`), rendered by
//! the `gtmpl` crate over the JSON Docker would show, plus Docker's `json` function.

use std::collections::HashMap;

use gtmpl_value::{FuncError, Number, Value};

/// serde JSON → a template value (objects become maps, so `index` works on them).
fn to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::Number(Number::from(u)),
            (_, Some(i), _) => Value::Number(Number::from(i)),
            (_, _, Some(f)) => Value::Number(Number::from(f)),
            _ => Value::Nil,
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(to_value).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), to_value(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A template value → serde JSON (for `json`), map keys sorted as Go's encoder does.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::NoValue | Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::String(s) => s.clone().into(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.into(),
            (_, Some(i), _) => i.into(),
            (_, _, Some(f)) => f.into(),
            _ => serde_json::Value::Null,
        },
        Value::Array(a) => a.iter().map(to_json).collect(),
        Value::Object(o) | Value::Map(o) => {
            let sorted: std::collections::BTreeMap<_, _> =
                o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
    }
}

/// Docker's `json` template function.
fn json(args: &[Value]) -> Result<Value, FuncError> {
    let [v] = args else {
        return Err(FuncError::ExactlyXArgs("json".into(), 1));
    };
    serde_json::to_string(&to_json(v))
        .map(Value::String)
        .map_err(|e| FuncError::Generic(e.to_string()))
}

/// Renders Go template `text` over `data`.
pub fn render(text: &str, data: &serde_json::Value) -> anyhow::Result<String> {
    let mut t = gtmpl::Template::default();
    t.add_func("json", json);
    t.parse(text)
        .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
    t.render(&gtmpl::Context::from(to_value(data)))
        .map_err(|e| anyhow::anyhow!("template: {e}"))
}

/// Seconds since the epoch as RFC 3339 (Docker's `Created`).
pub fn rfc3339(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Image `name` as `docker image inspect` shows it (the fields wsh has).
pub fn docker_inspect(store: &images::Store, name: &str) -> anyhow::Result<serde_json::Value> {
    let (id, c) = store.resolve(name)?;
    let tags = store.tags_of(&id)?;
    let set = |v: &[String]| {
        v.iter()
            .map(|k| (k.clone(), serde_json::json!({})))
            .collect::<serde_json::Map<_, _>>()
    };
    let size: u64 = c
        .layers
        .iter()
        .filter_map(|l| std::fs::metadata(store.layer_path(l)).ok())
        .map(|m| m.len())
        .sum();
    let null_if_empty = |v: &[String]| {
        if v.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!(v)
        }
    };
    Ok(serde_json::json!({
        "Id": format!("sha256:{id}"),
        "RepoTags": tags,
        "Created": rfc3339(c.created),
        "Size": size,
        "Architecture": "wasm32",
        "Os": "wasip1",
        "Config": {
            "User": c.user,
            "Env": c.env,
            "Cmd": null_if_empty(&c.cmd),
            "Entrypoint": null_if_empty(&c.entrypoint),
            "WorkingDir": c.workdir,
            "Labels": c.labels,
            "ExposedPorts": set(&c.exposed_ports),
            "Volumes": set(&c.volumes),
            "StopSignal": c.stop_signal,
            "Shell": null_if_empty(&c.shell),
            "OnBuild": null_if_empty(&c.on_build),
        },
        "RootFS": { "Type": "layers", "Layers": c.layers.iter().map(|l| format!("sha256:{l}")).collect::<Vec<_>>() },
    }))
}

/// `wsh inspect --format TEMPLATE IMAGE`.
pub fn inspect(name: &str, template: &str) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    if images::normalize_ref(name).ok().as_deref() == Some(images::base::BASE_TAG) {
        images::base::ensure(&store)?;
    }
    let data = docker_inspect(&store, name)?;
    println!("{}", render(template, &data)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_templates_over_json() {
        let d = serde_json::json!({"Id": "x", "Config": {"User": "u", "Env": ["A=1", "B=2"],
            "Labels": {"k": "v"}}});
        assert_eq!(render("{{.Id}} {{.Config.User}}", &d).unwrap(), "x u");
        assert_eq!(render("{{index .Config.Labels \"k\"}}", &d).unwrap(), "v");
        assert_eq!(
            render("{{json .Config.Env}}", &d).unwrap(),
            r#"["A=1","B=2"]"#
        );
        assert!(render("{{.Id", &d).is_err());
    }
}
