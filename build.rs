//! Builds the web front end (frontend/ → frontend/dist) when its sources changed, so that
//! `cargo build` yields a binary that carries the UI. `npm ci` runs first when node_modules is
//! missing or older than package-lock.json. Set PLENUM_SKIP_FRONTEND=1 to skip
//! (dist/ must then exist, e.g. built by hand with `npm run build`).

use std::path::Path;
use std::process::Command;

fn main() {
    let frontend = Path::new("frontend");
    for watched in
        ["package.json", "package-lock.json", "index.html", "src", "public", "vite.config.ts", "tsconfig.json"]
    {
        println!("cargo:rerun-if-changed=frontend/{watched}");
    }
    println!("cargo:rerun-if-env-changed=PLENUM_SKIP_FRONTEND");
    let dist = frontend.join("dist");
    if std::env::var_os("PLENUM_SKIP_FRONTEND").is_some() || !frontend.join("package.json").exists() {
        if !dist.join("index.html").exists() {
            std::fs::create_dir_all(&dist).expect("create frontend/dist");
            std::fs::write(
                dist.join("index.html"),
                "<!doctype html><title>Plenum</title><p>The front end was not built (PLENUM_SKIP_FRONTEND).</p>",
            )
            .expect("write placeholder index.html");
        }
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if npm_install_stale(frontend) {
        run(Command::new(npm).args(["ci", "--no-audit", "--no-fund"]).current_dir(frontend), "npm ci");
    }
    run(Command::new(npm).args(["run", "build"]).current_dir(frontend), "npm run build");
}

/// True when node_modules is missing or older than package-lock.json (a dependency was added).
fn npm_install_stale(frontend: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&frontend.join("node_modules/.package-lock.json")), modified(&frontend.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => lock > installed,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{what} could not start (is Node.js installed?): {e}"));
    assert!(status.success(), "{what} failed in frontend/ ({status})");
}
