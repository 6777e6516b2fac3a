//! tests/e2e/kubernetes.yaml, the README's Pod examples, parsed and checked for structure (no
//! cluster here; the CRI checks run the same pod shapes against containerd).

use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

use crate::lab::Lab;
use crate::{Check, check};

pub const CHECKS: &[Check] = &[check!(pods_run_sexton)];

const SEXTON: &str = "/sbin/sexton";
const DEFAULT_GRACE: f64 = 5.0;

fn strings(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The grace period a container gives sexton: `--grace`/`-t` before `--`, else SEXTON_GRACE.
fn grace_of(container: &Value) -> f64 {
    let command = strings(&container["command"]);
    let options = command.split(|a| *a == "--").next().unwrap_or_default();
    for (i, arg) in options.iter().enumerate() {
        if let Some(value) = arg.strip_prefix("--grace=") {
            return value.parse().expect("a number");
        }
        if matches!(*arg, "--grace" | "-t") {
            return options
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .expect("a number after --grace");
        }
    }
    let env = container["env"].as_sequence().into_iter().flatten();
    env.filter(|e| e["name"].as_str() == Some("SEXTON_GRACE"))
        .find_map(|e| e["value"].as_str()?.parse().ok())
        .unwrap_or(DEFAULT_GRACE)
}

/// Valid YAML; every document a v1 Pod whose containers run /sbin/sexton (`--pause`, or
/// options then `--` and a program); terminationGracePeriodSeconds above sexton's grace; one
/// pod sets both explicitly, and one shares its PID namespace with `sexton --pause` first.
fn pods_run_sexton(_: &Lab) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/kubernetes.yaml");
    let text = std::fs::read_to_string(&file).expect("read kubernetes.yaml");
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("valid YAML"))
        .filter(|d| !d.is_null())
        .collect();
    let mut errors = Vec::new();
    if docs.len() < 2 {
        errors.push(format!("want at least 2 documents, got {}", docs.len()));
    }
    let (mut graced, mut shared) = (false, false);
    for doc in &docs {
        let name = doc["metadata"]["name"].as_str().unwrap_or("?");
        if doc["apiVersion"].as_str() != Some("v1") || doc["kind"].as_str() != Some("Pod") {
            errors.push(format!("{name}: not a v1 Pod"));
            continue;
        }
        let spec = &doc["spec"];
        let containers = spec["containers"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        if containers.is_empty() {
            errors.push(format!("{name}: no containers"));
        }
        let tgps = spec["terminationGracePeriodSeconds"]
            .as_f64()
            .unwrap_or(30.0);
        for c in &containers {
            let cname = c["name"].as_str().unwrap_or("?");
            let command = strings(&c["command"]);
            let pause = command == [SEXTON, "--pause"];
            if command.first() != Some(&SEXTON) {
                errors.push(format!(
                    "{name}/{cname}: command[0] is not {SEXTON}: {command:?}"
                ));
            } else if !pause {
                match command.iter().position(|a| *a == "--") {
                    None => errors.push(format!(
                        "{name}/{cname}: no '--' before the program: {command:?}"
                    )),
                    Some(i) if i == command.len() - 1 && strings(&c["args"]).is_empty() => {
                        errors.push(format!("{name}/{cname}: no program after '--'"))
                    }
                    Some(_) => {}
                }
            }
            if !command.contains(&"--pause") {
                let grace = grace_of(c);
                if tgps <= grace {
                    errors.push(format!(
                        "{name}: terminationGracePeriodSeconds {tgps} <= sexton grace {grace}"
                    ));
                } else if !spec["terminationGracePeriodSeconds"].is_null() && grace != DEFAULT_GRACE
                {
                    graced = true;
                }
            }
        }
        if spec["shareProcessNamespace"].as_bool() == Some(true) {
            match containers.first() {
                Some(first) if strings(&first["command"]) == [SEXTON, "--pause"] => shared = true,
                _ => errors.push(format!(
                    "{name}: shared-PID pod whose first container is not {SEXTON} --pause"
                )),
            }
        }
    }
    if !graced {
        errors.push(
            "no pod sets terminationGracePeriodSeconds above an explicit sexton --grace".into(),
        );
    }
    if !shared {
        errors.push("no pod with shareProcessNamespace: true and `sexton --pause` first".into());
    }
    assert!(
        errors.is_empty(),
        "{}:\n{}",
        file.display(),
        errors.join("\n")
    );
}
