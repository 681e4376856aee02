//! The web console in a real browser (Debian's chromium, driven through chromium-driver): a
//! responder logs in, declares a case, uploads a real triage, advances a gate; the customer's
//! authoriser approves the host's waiting action in a browser of their own; the responder
//! generates, verifies and downloads the signed report. A script stored in a case or a file
//! name never runs, a change without the session's CSRF token is refused, and another
//! customer's authoriser reaches none of the pages.
//!
//! `FIREWARDEN_SCREENSHOTS=DIR` also writes screenshots of the main pages there (how the ones
//! in `docs/` were made).

mod support;
mod webdriver;

use serde_json::json;
use std::process::{Command, Stdio};
use support::{start, text, user_with_password, write};
use webdriver::Browser;

fn log_in(b: &Browser, url: &str, name: &str) {
    b.goto(&format!("{url}/ui/cases"));
    b.wait_url("/login");
    b.type_into("#name", name);
    b.type_into("#password", &format!("{name}'s long passphrase"));
    b.click("form.login button[type=submit]");
    b.wait_url("/ui/cases");
    b.wait_text("Log out");
}

fn shot(b: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("FIREWARDEN_SCREENSHOTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        b.run("window.scrollTo(0, 0);", json!([]));
        b.screenshot(&dir.join(format!("{name}.png")));
    }
}

/// Whether a script planted in the page ran.
fn pwned(b: &Browser) -> bool {
    b.run("return window.__pwned !== undefined;", json!([])) == json!(true)
}

#[test]
fn a_case_from_login_to_signed_report_in_the_browser() {
    if !webdriver::available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = start(&data.path().join("fw"), None, None);
    let admin = server.token.clone();
    let tenant = |name: &str| {
        server.json(&admin, &["tenant", "add", name])["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    server.ok(
        &admin,
        &[
            "tenant",
            "set",
            &acme,
            "--approval-policy",
            "medium=customer",
            "--sla",
            "standard",
        ],
    );
    let rob = user_with_password(&server, "rob", "responder", None);
    user_with_password(&server, "carol", "customer-authoriser", Some(&acme));
    user_with_password(&server, "gina", "customer-authoriser", Some(&globex));

    // A planted host: a webshell whose file name is markup with a script in it.
    let root = support::planted_web_host("web01");
    let planted_name = "<img src=x onerror=window.__pwned=2>.php";
    write(
        root.path(),
        &format!("/var/www/html/{planted_name}"),
        "<?php @eval(base64_decode($_POST['p'])); ?>\n",
    );
    let triage_file = data.path().join("triage.json");
    let o = Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args(["triage", "--root"])
        .arg(root.path())
        .args(["--format", "json", "-o"])
        .arg(&triage_file)
        .output()
        .unwrap();
    assert!(triage_file.exists(), "{}", text(&o));

    // The responder logs in and declares a case whose title holds a script.
    let b = Browser::launch();
    log_in(&b, &server.url, "rob");
    let title = "Shop breach <script>window.__pwned=1</script>";
    b.type_into("#nc-title", title);
    b.choose("#nc-tenant", &acme);
    b.choose("#nc-kind", "webshell");
    b.click("section[aria-labelledby=new-case] button[type=submit]");
    let at = b.wait_url("/ui/cases/C");
    let case = at
        .rsplit("/ui/cases/")
        .next()
        .unwrap()
        .split(['#', '?'])
        .next()
        .unwrap()
        .to_owned();
    b.wait_text(title);
    assert!(!pwned(&b), "a script in the case title ran");

    // Upload the triage through the page.
    b.type_into("#up-a", "web01");
    b.type_into("#up-f", triage_file.to_str().unwrap());
    b.click("form.upload button[type=submit]");
    b.wait_text(planted_name);
    assert!(!pwned(&b), "a script in a file name ran");
    let source = b.source();
    assert!(
        !source.contains("<img src=x onerror"),
        "the file name reached the page unescaped"
    );
    shot(&b, "case");

    // The timeline chart zooms: a bar is a link to its slice of time.
    b.click("figure.chart a");
    let zoomed = b.wait_url("from=");
    assert!(zoomed.contains("&to="), "{zoomed}");
    b.wait_text("Show all");
    b.goto(&format!("{}/ui/cases/{case}", server.url));
    b.wait_text(title);

    // A change without the session's CSRF token is refused; with it, it is taken.
    let notes = format!("/api/v1/cases/{case}/notes");
    let status = |with_token: bool| {
        b.run_async(
            "const [url, withToken, done] = arguments;\
             const headers = {'Content-Type': 'application/json'};\
             if (withToken) headers['X-CSRF-Token'] = document.querySelector('meta[name=csrf-token]').content;\
             fetch(url, {method: 'POST', headers, body: JSON.stringify({body: 'from the console'})})\
               .then(r => done(r.status), e => done(String(e)));",
            json!([notes, with_token]),
        )
    };
    assert_eq!(status(false), json!(403));
    assert_eq!(status(true), json!(201));

    // Record the authority, then leave preparation through its gate.
    b.click("details > summary");
    b.type_into(
        "#ed-auth",
        "Signed engagement letter of 2026-12-01, Acme CISO",
    );
    b.click("details form.api button[type=submit]");
    b.wait_text("Signed engagement letter");
    b.wait_text("every criterion is met");
    b.click("#stage form.api button[type=submit]");
    b.wait_text("To leave detection");

    // The host command waits for the customer's approval.
    let state = tempfile::tempdir().unwrap();
    let waiting = server
        .command(
            &rob,
            &[
                "contain",
                "file",
                "/var/www/html/up.php",
                "--root",
                root.path().to_str().unwrap(),
                "--state-dir",
                state.path().to_str().unwrap(),
                "--case",
                &case,
            ],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The customer's authoriser, in a browser of their own, approves it with their password.
    let c = Browser::launch();
    log_in(&c, &server.url, "carol");
    c.goto(&format!("{}/ui/approvals", server.url));
    let start = std::time::Instant::now();
    while c.find("table a[href*='/approvals/']").is_none() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the request never reached the queue"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        c.goto(&format!("{}/ui/approvals", server.url));
    }
    shot(&c, "approvals");
    c.click("table a[href*='/approvals/']");
    c.wait_text("The plan, step by step");
    c.wait_text("Undo:");
    assert!(
        root.path().join("var/www/html/up.php").exists(),
        "applied before approval"
    );
    shot(&c, "approval");
    c.type_into("#dc-p", "carol's long passphrase");
    c.click("form.decision button[value=true]");
    c.wait_text("Decided by carol");

    // On the same page, she grants a scope ahead and withdraws it.
    c.click("details > summary");
    c.type_into("#pa-h", "web*");
    c.type_into("#pa-p", "carol's long passphrase");
    c.click("details form.api button[type=submit]");
    c.wait("input[id^=rv-r-]");
    c.type_into("input[id^=rv-r-]", "the window is over");
    c.type_into("input[id^=rv-p-]", "carol's long passphrase");
    c.click("td form.api button[type=submit]");
    c.wait_text("revoked by carol");
    let done = waiting.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(text(&done).contains("approved by carol"), "{}", text(&done));
    assert!(!root.path().join("var/www/html/up.php").exists());

    // The customer sees their case (read-only) but not the forms that change it.
    c.goto(&format!("{}/ui/cases/{case}", server.url));
    c.wait_text(title);
    assert!(c.find("form.upload").is_none());

    // Another customer's authoriser reaches none of it.
    let g = Browser::launch();
    log_in(&g, &server.url, "gina");
    assert!(!g.body_text().contains("Shop breach"));
    for page in [
        format!("/ui/cases/{case}"),
        format!("/ui/cases/{case}#reports"),
    ] {
        g.goto(&format!("{}{page}", server.url));
        g.wait_text("Not Found");
        assert!(!g.body_text().contains("Shop breach"), "{page}");
    }
    g.goto(&format!("{}/ui/approvals", server.url));
    g.wait_text("Nothing waits");
    g.goto(&format!("{}/ui/admin", server.url));
    g.wait_text("Forbidden");

    // The responder generates the signed report, checks it and downloads it.
    b.goto(&format!("{}/ui/cases/{case}", server.url));
    b.choose("#rp-f", "html");
    b.click("#reports form.api button[type=submit]");
    b.wait("#reports a[download]");
    b.click("#reports a[href$='/verify']");
    b.wait_text("intact: signed by this server's key");
    b.goto(&format!("{}/ui/cases/{case}", server.url));
    let href = b.run(
        "return document.querySelector('#reports a[download]').getAttribute('href');",
        json!([]),
    );
    let report = b.run_async(
        "const [url, done] = arguments; fetch(url).then(r => r.text()).then(done, e => done(String(e)));",
        json!([href]),
    );
    let report = report.as_str().unwrap();
    assert!(report.contains("firewarden-signature"), "{report}");
    assert!(
        report.contains("Shop breach &lt;script&gt;"),
        "the title, escaped"
    );
    assert!(!pwned(&b));
    shot(&b, "case-report");

    // The list, on a laptop and on a phone.
    b.goto(&format!("{}/ui/cases", server.url));
    b.wait_text("Shop breach");
    shot(&b, "cases");
    b.resize(390, 844);
    b.goto(&format!("{}/ui/cases/{case}", server.url));
    b.wait_text("Storyline");
    shot(&b, "case-phone");

    // The administrator's page, for the first administrator, who has only the bootstrap token.
    let a = Browser::launch();
    a.goto(&format!("{}/ui/admin", server.url));
    a.wait_url("/login");
    a.click("details > summary");
    a.type_into("#token", &server.token);
    a.click("details form.login button[type=submit]");
    a.wait_url("/ui/admin");
    a.goto(&format!("{}/ui/admin", server.url));
    a.wait_text("Customers and contracts");
    a.wait_text("case.create");
    shot(&a, "admin");

    // Logging out ends the session on the server.
    b.resize(1280, 900);
    b.click("form.who button[type=submit]");
    b.wait_url("/login");
    b.goto(&format!("{}/ui/cases", server.url));
    b.wait_url("/login");
}
