//! The offline install bundle. `scripts/bundle.sh` packs the test binary
//! and the real default models; `install.sh`, run from the unpacked bundle
//! in a fresh directory with the network namespace cut off (`unshare -n`:
//! a loopback and nothing else), installs them, and the installed server
//! answers `/readyz` with 200 on its installed configuration. The
//! `--system` install puts every file where `deploy/bacopilot.service`
//! looks, and the unit's user serves from them (inside a private mount
//! namespace, so the host's /etc, /opt and /var/lib are never touched). A
//! bundle with an altered or an added file is refused before anything is
//! written, and a `--vendor` bundle resolves every crate with no network.
//!
//! The namespaces need root or CAP_SYS_ADMIN. Without them these tests fail
//! and say so, unless BACOPILOT_SKIP_UNSHARE=1: then the installs and cargo
//! run on the host's network (cargo with `--offline` and an empty cargo
//! home, so it still downloads nothing), and the `--system` check is
//! skipped with a message.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory under the system's temporary directory, removed when
/// the test ends (also when it fails: the failure message carries the logs).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "bacopilot-test-bundle-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `command` and returns its output, failing the test with its stdout
/// and stderr if it does not exit 0.
fn run(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The bundle of the test binary and the default models, made once for all
/// the tests here (in cargo's directory for test files, overwritten on each
/// run), and how long `scripts/bundle.sh` took.
fn bundle() -> &'static (PathBuf, Duration) {
    static MADE: OnceLock<(PathBuf, Duration)> = OnceLock::new();
    MADE.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundle/b.tar.gz");
        let started = Instant::now();
        run(Command::new(repo_dir().join("scripts/bundle.sh"))
            .arg("--binary")
            .arg(env!("CARGO_BIN_EXE_bacopilot"))
            .arg("--models-dir")
            .arg(repo_dir().join("models"))
            .arg("--out")
            .arg(&out)
            .arg("--fast"));
        (out, started.elapsed())
    })
}

/// Unpacks `tarball` into `into` and returns its one top-level directory.
fn unpack(tarball: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(into));
    let top: Vec<PathBuf> = std::fs::read_dir(into)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(top.len(), 1, "one top-level directory: {top:?}");
    assert!(top[0].is_dir(), "{top:?}");
    top[0].clone()
}

/// Whether `unshare FLAGS` may run here. Where it may not, the test fails
/// with the reason, unless BACOPILOT_SKIP_UNSHARE=1 says to go on without.
fn namespaces_allowed(flags: &[&str]) -> bool {
    let why = match Command::new("unshare").args(flags).arg("true").output() {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("unshare: {e}"),
    };
    assert!(
        std::env::var("BACOPILOT_SKIP_UNSHARE").as_deref() == Ok("1"),
        "`unshare {}` is not permitted here ({why}): this test cuts the network \
         off with namespaces, which needs root or CAP_SYS_ADMIN. Run it as root, \
         or set BACOPILOT_SKIP_UNSHARE=1 to run it without them.",
        flags.join(" ")
    );
    eprintln!(
        "BACOPILOT_SKIP_UNSHARE=1: `unshare {}` is not permitted ({why})",
        flags.join(" ")
    );
    false
}

/// `program`, to run inside a fresh network namespace when `cut_off`.
fn offline(cut_off: bool, program: impl AsRef<OsStr>) -> Command {
    if cut_off {
        let mut command = Command::new("unshare");
        command.arg("-n").arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Shell functions the scripts below share: bringing up the loopback of a
/// fresh network namespace (down there), a raw HTTP probe on
/// 127.0.0.1:$PORT (bash's /dev/tcp, so curl need not be installed),
/// waiting for readiness and stopping the server as systemd would.
const PRELUDE: &str = r#"
set -euo pipefail
trap 'exit 1' TERM INT
lo_up() {
  if command -v ip >/dev/null; then ip link set lo up
  elif command -v ifconfig >/dev/null; then ifconfig lo up
  else echo "neither ip nor ifconfig is here to bring the loopback up" >&2; exit 1; fi
}
status() (
  exec 2>/dev/null
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 0
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
  head -c 12 <&3 | cut -c10-12
)
await_ready() {
  local deadline=$((SECONDS + 120))
  until [ "$(status /readyz)" = 200 ]; do
    kill -0 "$1" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "not ready after 120 s" >&2; exit 1; }
    sleep 0.1
  done
  echo ready
}
stop() { kill -TERM "$1"; local code=0; wait "$1" || code=$?; echo "stopped $code"; }
[ "${NAMESPACED:-0}" = 0 ] || lo_up
# Network interfaces in this namespace (/proc/net follows the namespace).
echo "interfaces $(($(wc -l </proc/net/dev) - 2))"
"#;

/// What a script printed, line by line, with when each line came.
struct Transcript {
    lines: Vec<(Instant, String)>,
    status: ExitStatus,
}

impl Transcript {
    fn at(&self, line: &str) -> Option<Instant> {
        self.lines.iter().find(|(_, l)| l == line).map(|(t, _)| *t)
    }
}

/// Runs PRELUDE + `script` with bash, inside `unshare FLAGS` when given,
/// with `env`; gives up after five minutes.
fn transcript(unshare: Option<&[&str]>, script: &str, env: &[(&str, &OsStr)]) -> Transcript {
    let mut command = Command::new("timeout");
    command.args(["--kill-after=10", "300"]);
    if let Some(flags) = unshare {
        command.arg("unshare").args(flags).env("NAMESPACED", "1");
    }
    command.args(["bash", "-c", &format!("{PRELUDE}{script}")]);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| (Instant::now(), l.unwrap()))
        .collect();
    let status = child.wait().unwrap();
    Transcript { lines, status }
}

/// The end of a log file the scripts wrote, for failure messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({e})"));
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("--- {}:\n{}", path.display(), &text[start..])
}

fn assert_same_file(a: &Path, b: &Path) {
    let same = Command::new("cmp")
        .arg("-s")
        .arg(a)
        .arg(b)
        .status()
        .unwrap();
    assert!(
        same.success(),
        "{} differs from {}",
        a.display(),
        b.display()
    );
}

#[test]
fn the_bundle_installs_and_serves_from_a_fresh_directory_with_the_network_cut_off() {
    let namespaced = namespaces_allowed(&["-n"]);
    let (tarball, bundling) = bundle();
    let size = std::fs::metadata(tarball).unwrap().len();
    run(Command::new("sha256sum")
        .args(["--check", "--quiet", "b.tar.gz.sha256"])
        .current_dir(tarball.parent().unwrap()));
    let tmp = Scratch::new("user");
    let bundle = unpack(tarball, &tmp.0.join("unpacked"));
    for file in [
        "bin/bacopilot",
        "config.toml",
        "deploy/bacopilot.service",
        "install.sh",
        "README",
        "SHA256SUMS",
        "models/SHA256SUMS",
        "models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "models/all-MiniLM-L6-v2/model.safetensors",
    ] {
        assert!(bundle.join(file).is_file(), "the bundle lacks {file}");
    }
    assert!(
        !bundle.join("models/gemma-3-270m-q4_k_m.gguf").exists(),
        "only the models config.toml loads at start-up are bundled by default"
    );

    // Installed and served inside one network namespace: the installer and
    // the server both run with no route off the machine.
    let prefix = tmp.0.join("opt");
    // In the namespace nothing else listens: the installed config.toml's
    // 127.0.0.1:8080 serves as it is. On the host, a free port.
    let (port, listen) = if namespaced {
        ("8080".to_string(), String::new())
    } else {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port().to_string();
        (port.clone(), format!("127.0.0.1:{port}"))
    };
    let script = r#"
cd "$BUNDLE"
./install.sh --prefix "$PREFIX" >"$LOGS/install.log" 2>&1
echo installed
"$PREFIX/bin/bacopilot-serve" ${LISTEN:+--listen "$LISTEN"} >"$LOGS/serve.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
await_ready "$server"
stop "$server"
"#;
    let started = Instant::now();
    let served = transcript(
        namespaced.then_some(&["-n"][..]),
        script,
        &[
            ("BUNDLE", bundle.as_os_str()),
            ("PREFIX", prefix.as_os_str()),
            ("LOGS", tmp.0.as_os_str()),
            ("PORT", port.as_ref()),
            ("LISTEN", listen.as_ref()),
        ],
    );
    let logs = format!(
        "{}\n{}",
        log_tail(&tmp.0.join("install.log")),
        log_tail(&tmp.0.join("serve.log"))
    );
    assert!(
        served.status.success(),
        "{:?}: {:?}\n{logs}",
        served.status,
        served.lines
    );
    let (Some(installed), Some(ready)) = (served.at("installed"), served.at("ready")) else {
        panic!("{:?}\n{logs}", served.lines);
    };
    assert!(
        served.at("stopped 0").is_some(),
        "{:?}\n{logs}",
        served.lines
    );
    if namespaced {
        assert!(
            served.at("interfaces 1").is_some(),
            "the namespace has only the loopback: {:?}",
            served.lines
        );
    }
    let install_log = std::fs::read_to_string(tmp.0.join("install.log")).unwrap();
    assert!(
        install_log.contains(&format!("{}/bin/bacopilot-serve", prefix.display())),
        "the installer says how to start: {install_log}"
    );
    eprintln!(
        "bundle: {:.1} s to make, {} MiB; install {:.1} s, install to ready {:.1} s ({})",
        bundling.as_secs_f64(),
        size >> 20,
        (installed - started).as_secs_f64(),
        (ready - started).as_secs_f64(),
        if namespaced {
            "network cut off"
        } else {
            "host network: BACOPILOT_SKIP_UNSHARE=1"
        },
    );

    // Run again over an installation whose configuration was edited: the
    // edit is kept, the bundle's default goes beside it, the rest is the same.
    let config = prefix.join("config.toml");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .unwrap()
        .write_all(b"# edited at the site\n")
        .unwrap();
    run(offline(namespaced, bundle.join("install.sh"))
        .arg("--prefix")
        .arg(&prefix));
    let kept = std::fs::read_to_string(&config).unwrap();
    assert!(kept.ends_with("# edited at the site\n"), "{kept}");
    assert_same_file(&bundle.join("config.toml"), &prefix.join("config.toml.new"));
    assert_same_file(&bundle.join("bin/bacopilot"), &prefix.join("bin/bacopilot"));
}

#[test]
fn the_system_install_puts_each_file_where_the_unit_looks_and_its_user_serves_from_them() {
    if !namespaces_allowed(&["-m", "-n"]) {
        eprintln!("skipped: the --system install runs only inside a private mount namespace");
        return;
    }
    let (tarball, _) = bundle();
    let tmp = Scratch::new("system");
    let bundle = unpack(tarball, &tmp.0.join("unpacked"));
    let root = tmp.0.join("root");
    for dir in ["etc", "opt", "bin", "varlib", "varlog"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    // The host's /etc is copied, and the copy and empty folders are mounted
    // over the paths the installer writes, in this namespace only. Twice, as
    // an upgrade would; then started as systemd would start the installed
    // unit: its user, environment, working directory and umask.
    let script = r#"
cp -a /etc/. "$ROOT/etc/"
mount --bind "$ROOT/etc" /etc
mount --bind "$ROOT/opt" /opt
mount --bind "$ROOT/bin" /usr/local/bin
mount --bind "$ROOT/varlib" /var/lib
mount --bind "$ROOT/varlog" /var/log
cd "$BUNDLE"
./install.sh --system >"$LOGS/install.log" 2>&1
./install.sh --system >>"$LOGS/install.log" 2>&1
echo installed
unit=/etc/systemd/system/bacopilot.service
value() { sed -n "s/^$1=//p" "$unit"; }
mapfile -t environment < <(value Environment)
cd "$(value WorkingDirectory)"
umask "$(value UMask)"
setpriv --reuid="$(value User)" --regid="$(value Group)" --init-groups \
  env -i PATH=/usr/bin:/bin "${environment[@]}" $(value ExecStart) >"$LOGS/serve.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
await_ready "$server"
stop "$server"
"#;
    let served = transcript(
        Some(&["-m", "-n"]),
        script,
        &[
            ("BUNDLE", bundle.as_os_str()),
            ("ROOT", root.as_os_str()),
            ("LOGS", tmp.0.as_os_str()),
            ("PORT", "8080".as_ref()),
        ],
    );
    let logs = format!(
        "{}\n{}",
        log_tail(&tmp.0.join("install.log")),
        log_tail(&tmp.0.join("serve.log"))
    );
    assert!(
        served.status.success(),
        "{:?}: {:?}\n{logs}",
        served.status,
        served.lines
    );
    assert!(
        served.at("ready").is_some() && served.at("stopped 0").is_some(),
        "{:?}\n{logs}",
        served.lines
    );

    use std::os::unix::fs::MetadataExt;
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let uid: u32 = passwd
        .lines()
        .find_map(|l| l.strip_prefix("bacopilot:"))
        .and_then(|rest| rest.split(':').nth(1))
        .expect("the installer created the user bacopilot")
        .parse()
        .unwrap();
    assert_same_file(
        &repo_dir().join("deploy/bacopilot.service"),
        &root.join("etc/systemd/system/bacopilot.service"),
    );
    assert_same_file(
        &bundle.join("config.toml"),
        &root.join("etc/bacopilot/config.toml"),
    );
    assert_same_file(
        &bundle.join("bin/bacopilot"),
        &root.join("opt/bacopilot/bin/bacopilot"),
    );
    assert_eq!(
        std::fs::read_link(root.join("bin/bacopilot")).unwrap(),
        Path::new("/opt/bacopilot/bin/bacopilot"),
        "the unit's ExecStart leads to the installed binary"
    );
    let model = root.join("varlib/bacopilot/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(std::fs::metadata(&model).unwrap().uid(), uid, "{model:?}");
    let data = root.join("varlib/bacopilot/data");
    assert_eq!(
        std::fs::metadata(&data).map(|m| m.uid()).ok(),
        Some(uid),
        "the service wrote its records as its user in {data:?}"
    );
}

#[test]
fn a_bundle_with_an_altered_or_an_added_file_is_refused_and_nothing_is_installed() {
    let (tarball, _) = bundle();
    let tmp = Scratch::new("altered");
    let bundle = unpack(tarball, &tmp.0.join("unpacked"));
    let prefix = tmp.0.join("opt");
    let install = || {
        Command::new(bundle.join("install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .output()
            .unwrap()
    };

    // One byte of a model flipped, as a bad disk or a bad copy would.
    let model = bundle.join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    let flip = |expect: Option<u8>| {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&model)
            .unwrap();
        let mut byte = [0u8];
        f.seek(SeekFrom::Start(1_000_000)).unwrap();
        f.read_exact(&mut byte).unwrap();
        if let Some(e) = expect {
            assert_eq!(byte[0], e);
        }
        f.seek(SeekFrom::Start(1_000_000)).unwrap();
        f.write_all(&[!byte[0]]).unwrap();
        !byte[0]
    };
    let flipped = flip(None);
    let out = install();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an altered bundle was installed");
    assert!(
        stderr.contains("does not match its SHA256SUMS; nothing was installed")
            && stderr.contains("models/SmolLM2-135M-Instruct.Q4_1.gguf: FAILED"),
        "{stderr}"
    );
    assert!(!prefix.exists(), "nothing is written for an altered bundle");
    flip(Some(flipped));

    // A file the bundle's SHA256SUMS does not list.
    let added = bundle.join("bin/helper");
    std::fs::write(&added, "#!/bin/sh\n").unwrap();
    let out = install();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a bundle with an added file was installed"
    );
    assert!(
        stderr.contains("does not list; nothing was installed") && stderr.contains("bin/helper"),
        "{stderr}"
    );
    assert!(!prefix.exists(), "nothing is written for an added file");

    // Restored, the same bundle installs: the refusals were for the changes.
    std::fs::remove_file(&added).unwrap();
    let out = install();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_file(
        &model,
        &prefix.join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    );
}

#[test]
fn a_vendored_bundle_resolves_every_crate_with_no_network() {
    let namespaced = namespaces_allowed(&["-n"]);
    let tmp = Scratch::new("vendored");
    let tarball = tmp.0.join("v.tar.gz");
    let started = Instant::now();
    run(Command::new(repo_dir().join("scripts/bundle.sh"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_bacopilot"))
        .args(["--no-models", "--vendor", "--fast", "--out"])
        .arg(&tarball));
    let size = std::fs::metadata(&tarball).unwrap().len();
    eprintln!(
        "vendored bundle: {:.1} s to make, {} MiB",
        started.elapsed().as_secs_f64(),
        size >> 20
    );
    let bundle = unpack(&tarball, &tmp.0.join("unpacked"));
    let src = bundle.join("src");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "deploy/install.sh",
    ] {
        assert!(src.join(file).is_file(), "the sources lack {file}");
    }
    let config = std::fs::read_to_string(src.join(".cargo/config.toml")).unwrap();
    let ours = std::fs::read_to_string(repo_dir().join(".cargo/config.toml")).unwrap();
    assert!(
        config.starts_with(&ours) && config.contains("replace-with = \"vendored-sources\""),
        "{config}"
    );

    // Every crate of Cargo.lock, from vendor/ alone: no network, and a cargo
    // home with nothing downloaded in it.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let home = tmp.0.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    run(offline(namespaced, cargo)
        .args(["fetch", "--locked", "--offline"])
        .env("CARGO_HOME", &home)
        .current_dir(&src));

    // The installer checks the thousands of vendored files too, and installs
    // a bundle without models.
    let out = run(offline(namespaced, bundle.join("install.sh"))
        .arg("--prefix")
        .arg(tmp.0.join("opt")));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the bundle holds no models"), "{stdout}");
}
