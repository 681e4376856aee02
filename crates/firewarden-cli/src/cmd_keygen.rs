//! `firewarden keygen`: make a signing key (Ed25519) or an encryption identity (age X25519).

use anyhow::{Context, Result, bail};
use firewarden_evidence::{KeyPair, age};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Make a key pair: NAME.key (private, mode 0600) and NAME.pub.
///
/// Signing keys are Ed25519 in the PEM forms OpenSSL reads, so anyone can check a manifest
/// signature with `openssl pkeyutl -verify -rawin`. With --age, an age X25519 identity
/// (NAME.agekey) and its recipient (NAME.agepub) for `collect --encrypt-to`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden keygen -o responder          # responder.key, responder.pub\n  firewarden keygen --age -o lab          # lab.agekey, lab.agepub (give lab.agepub to collectors)\n\nExit codes: 0 written, 2 error (files are never overwritten)."
)]
pub struct Args {
    /// Base name of the files to write.
    #[arg(short = 'o', long = "output", value_name = "NAME")]
    output: PathBuf,
    /// Make an age encryption identity instead of a signing key.
    #[arg(long)]
    age: bool,
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(ext);
    PathBuf::from(s)
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.age {
        let (secret, public) = (
            with_ext(&args.output, ".agekey"),
            with_ext(&args.output, ".agepub"),
        );
        if secret.exists() || public.exists() {
            bail!(
                "{} or {} already exists",
                secret.display(),
                public.display()
            );
        }
        let id = age::x25519::Identity::generate();
        let recipient = id.to_public().to_string();
        use age::secrecy::ExposeSecret;
        write_new(
            &secret,
            &format!(
                "# created by firewarden keygen --age\n# public key: {recipient}\n{}\n",
                id.to_string().expose_secret()
            ),
            0o600,
        )?;
        write_new(&public, &format!("{recipient}\n"), 0o644)?;
        println!("{recipient}");
        eprintln!(
            "identity {} (keep it secret), recipient {}",
            secret.display(),
            public.display()
        );
    } else {
        let (secret, public) = (
            with_ext(&args.output, ".key"),
            with_ext(&args.output, ".pub"),
        );
        if secret.exists() || public.exists() {
            bail!(
                "{} or {} already exists",
                secret.display(),
                public.display()
            );
        }
        let key = KeyPair::generate(false)?;
        write_new(&secret, &key.private_pem(), 0o600)?;
        write_new(&public, &key.public().to_pem(), 0o644)?;
        println!("{}", key.public().fingerprint());
        eprintln!(
            "private key {} (keep it secret), public key {} (give it to examiners)",
            secret.display(),
            public.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
