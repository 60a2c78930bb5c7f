//! The deployment files (`Dockerfile`, `Dockerfile.cuda`, `compose.yaml`,
//! `deploy/bacopilot.service`) refer to what exists and agree with each
//! other and with the server, and the server stops cleanly on SIGTERM, the
//! signal all three send. Docker itself is not run here (no daemon on the
//! build machines); these checks catch a renamed script, a wrong port or
//! health path, a root user or a data directory the service may not write.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{repo_dir, MINILM, SMOL};

fn read(name: &str) -> String {
    std::fs::read_to_string(repo_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A Dockerfile's instructions (keyword, arguments), continuation lines
/// joined and comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                let (keyword, rest) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((keyword.to_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// `KEY=value` pairs of every ENV in `stage`.
fn env_of(stage: &[(String, String)]) -> HashMap<String, String> {
    stage
        .iter()
        .filter(|(k, _)| k == "ENV")
        .flat_map(|(_, v)| v.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

fn check_dockerfile(name: &str, build: &str) {
    let all = instructions(&read(name));
    for (keyword, args) in all.iter().filter(|(k, _)| k == "COPY") {
        if args.starts_with("--from") {
            continue;
        }
        let words: Vec<&str> = args.split_whitespace().collect();
        for source in &words[..words.len() - 1] {
            assert!(
                repo_dir().join(source).exists(),
                "{name}: {keyword} {source} does not exist"
            );
        }
    }
    assert!(
        all.iter()
            .any(|(k, v)| k == "RUN" && v.contains(&format!("{build} "))),
        "{name} must build with `{build}`, the script scripts/run.sh uses"
    );
    let script = build.split_whitespace().next().unwrap();
    assert!(is_executable(&repo_dir().join(script)), "{script}");
    assert!(read("scripts/run.sh").contains("scripts/build.sh"));

    // The image that runs: everything after the last FROM.
    let last = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let stage = &all[last..];
    let one = |keyword: &str| {
        let found: Vec<&String> = stage
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(found.len(), 1, "{name}: one {keyword} in the final stage");
        found[0].clone()
    };
    let user = one("USER");
    assert!(user != "root" && user != "0", "{name} runs as root");
    assert!(
        stage
            .iter()
            .any(|(k, v)| k == "RUN" && v.contains("useradd") && v.contains(&user)),
        "{name}: the user {user} is created in the final stage"
    );
    let env = env_of(stage);
    assert_eq!(env["BACOPILOT_DATA_DIR"], "/data", "{name}");
    assert_eq!(env["BACOPILOT_MODELS_DIR"], "/models", "{name}");
    let config = &env["BACOPILOT_CONFIG"];
    assert!(
        stage
            .iter()
            .any(|(k, v)| k == "COPY" && v == &format!("config.toml {config}")),
        "{name}: the configuration {config} is copied in"
    );
    let volumes = one("VOLUME");
    assert!(
        volumes.contains("\"/data\"") && volumes.contains("\"/models\""),
        "{name}: {volumes}"
    );
    let port = env["BACOPILOT_LISTEN"]
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        env["BACOPILOT_LISTEN"].starts_with("0.0.0.0:"),
        "{name} must listen beyond the container"
    );
    assert_eq!(one("EXPOSE"), port, "{name}");
    let health = one("HEALTHCHECK");
    assert!(
        health.contains(&format!("http://127.0.0.1:{port}/readyz")),
        "{name}: {health}"
    );
    assert_eq!(one("STOPSIGNAL"), "SIGTERM", "{name}");
    assert_eq!(one("CMD"), "[\"serve\"]", "{name}");
}

#[test]
fn the_dockerfiles_build_with_the_run_script_and_run_unprivileged_with_volumes_and_a_health_check()
{
    check_dockerfile("Dockerfile", "scripts/build.sh");
    check_dockerfile("Dockerfile.cuda", "scripts/build.sh --cuda");
    let ignored = read(".dockerignore");
    for path in ["models", "data", "target"] {
        assert!(
            ignored.lines().any(|l| l.trim() == path),
            "{path} stays out of the image"
        );
    }
}

#[test]
fn compose_runs_both_images_on_the_same_port_and_volumes() {
    let compose: serde_yaml_ng::Value = serde_yaml_ng::from_str(&read("compose.yaml")).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    for (name, dockerfile) in [
        ("bacopilot", "Dockerfile"),
        ("bacopilot-cuda", "Dockerfile.cuda"),
    ] {
        let s = &services[name];
        assert_eq!(
            s["build"]["dockerfile"].as_str(),
            Some(dockerfile),
            "{name}"
        );
        assert!(repo_dir().join(dockerfile).exists());
        let ports: Vec<&str> = s["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        assert_eq!(ports, ["8080:8080"], "{name}");
        let volumes: Vec<&str> = s["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            volumes.contains(&"./models:/models") && volumes.contains(&"data:/data"),
            "{name}: {volumes:?}"
        );
    }
    assert!(compose["volumes"]
        .as_mapping()
        .unwrap()
        .contains_key("data"));
    // The GPU service starts only when asked for, and reserves a GPU.
    let cuda = &services["bacopilot-cuda"];
    assert_eq!(cuda["profiles"][0].as_str(), Some("cuda"));
    assert_eq!(
        cuda["deploy"]["resources"]["reservations"]["devices"][0]["driver"].as_str(),
        Some("nvidia")
    );
}

#[test]
fn the_systemd_unit_runs_hardened_and_may_write_only_its_state() {
    let text = read("deploy/bacopilot.service");
    let mut service: HashMap<String, Vec<String>> = HashMap::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if let (Some((k, v)), "[Service]") = (line.split_once('='), section.as_str()) {
            if !line.starts_with('#') {
                service.entry(k.into()).or_default().push(v.into());
            }
        }
    }
    let one = |k: &str| service.get(k).map(|v| v.join(" ")).unwrap_or_default();
    assert_eq!(one("User"), "bacopilot");
    assert_eq!(one("ExecStart"), "/usr/local/bin/bacopilot serve");
    assert_eq!(one("ProtectSystem"), "strict");
    assert_eq!(one("NoNewPrivileges"), "yes");
    assert_eq!(one("ProtectHome"), "yes");
    assert_eq!(one("KillSignal"), "SIGTERM");
    assert_eq!(one("CapabilityBoundingSet"), "");
    let env: HashMap<&str, &str> = service["Environment"]
        .iter()
        .filter_map(|e| e.split_once('='))
        .collect();
    let writable = one("ReadWritePaths");
    for key in ["BACOPILOT_DATA_DIR", "BACOPILOT_MODELS_DIR"] {
        assert!(
            writable.split_whitespace().any(|w| env[key].starts_with(w)),
            "{key}={} is not writable under {writable}",
            env[key]
        );
    }
    assert!(
        text.contains("/etc/bacopilot/config.toml")
            && env["BACOPILOT_CONFIG"] == "/etc/bacopilot/config.toml"
    );
}

/// The status of `GET path` on 127.0.0.1:`port`, if it answers.
fn status(port: u16, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// `bacopilot serve` as its own process on 127.0.0.1:`port`.
fn spawn(data: &Path, models: &Path, port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .args(["--data-dir", data.to_str().unwrap()])
        .args(["--models-dir", models.to_str().unwrap()])
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigterm_stops_a_serving_process_which_exits_zero() {
    let models = common::models_dir("sigterm", &[SMOL, MINILM]);
    let data = std::env::temp_dir().join(format!(
        "bacopilot-test-sigterm-data-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = spawn(&data, &models, port);
    // The health check's path: 503 while the role models load, then 200.
    let started = Instant::now();
    while status(port, "/readyz") != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "not ready: {:?}",
            status(port, "/readyz")
        );
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let stopped = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(code.success(), "{code:?}");
    assert_eq!(status(port, "/healthz"), None, "the port is closed");
    // It starts again on the same data directory.
    let mut again = spawn(&data, &models, port);
    let started = Instant::now();
    while status(port, "/healthz") != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(60), "no restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SAFETY: as above.
    unsafe { libc::kill(again.id() as i32, libc::SIGTERM) };
    assert!(again.wait().unwrap().success());
}
