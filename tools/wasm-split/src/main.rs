//! Splits the browser bundle at its lazy split points (Leptos's `#[lazy]`), as cargo-leptos does,
//! for `./x build`:
//!
//!     gatehouse-wasm-split INPUT.wasm OUT_DIR NAME
//!
//! writes `OUT_DIR/NAME_split.wasm` (the main module, for wasm-bindgen), one module per split
//! point and per set of split points sharing code, the loader Leptos expects
//! (`__wasm_split.______________________.js`) and the manifest it reads to name a page's modules
//! in the HTML (`__wasm_split_manifest.json`: split point → the modules it needs, in load order).

use std::{collections::BTreeMap, fmt::Write, path::PathBuf, process::ExitCode};

/// The loader's name as Leptos's `HydrationScripts` looks for it beside the bundle.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, name] = args.as_slice() else {
        eprintln!("usage: gatehouse-wasm-split INPUT.wasm OUT_DIR NAME");
        return ExitCode::from(2);
    };
    match split(input, &PathBuf::from(out_dir), name) {
        Ok(count) => {
            println!("{count} split modules");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gatehouse-wasm-split: {error:?}");
            ExitCode::FAILURE
        }
    }
}

fn split(
    input: &str,
    out_dir: &std::path::Path,
    name: &str,
) -> Result<usize, Box<dyn std::error::Error>> {
    let wasm = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    std::fs::create_dir_all(out_dir)?;
    let main_out = out_dir.join(format!("{name}_split.wasm"));
    let main_module = format!("./{name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = out_dir;
    options.main_out_path = &main_out;
    options.main_module = &main_module;
    options.link_name = LINK_NAME;
    let split = wasm_split_cli_support::transform(options)?;
    // Sorted, so the same input gives the same bytes (the bundle is named by its content).
    let manifest: BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let mut json = String::from("{");
    for (i, (point, modules)) in manifest.iter().enumerate() {
        let modules = modules
            .iter()
            .map(|m| quoted(m))
            .collect::<Result<Vec<_>, _>>()?;
        let separator = if i == 0 { "" } else { "," };
        write!(
            json,
            "{separator}\n  {}: [{}]",
            quoted(point)?,
            modules.join(", ")
        )?;
    }
    json.push_str("\n}\n");
    std::fs::write(out_dir.join("__wasm_split_manifest.json"), json)?;
    Ok(split.split_modules.len())
}

/// A JSON string of a module or split point name (identifier characters only, as the splitter
/// makes them; anything else is refused rather than escaped).
fn quoted(name: &str) -> Result<String, String> {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        Ok(format!("\"{name}\""))
    } else {
        Err(format!("unexpected module name {name:?}"))
    }
}
