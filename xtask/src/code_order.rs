//! Each optimised module's functions, ordered by likeness for the sake of its gzip copy.
//!
//! Deflate finds a repeat only within the last 32 KiB it has read. `wasm-opt -Oz` orders a
//! module's functions by how often they are called, which scatters the near-identical copies of
//! the framework's generic code (one per type it is instantiated for) over the whole module.
//! Sorted by their type, then by their bodies, such copies sit side by side, where deflate finds
//! them: about 3 % off the gzip copies (brotli's window is larger, so it gains less). The type
//! first gained a little more than the bodies alone: 4.5 against 3.8 KB in the main module.
//!
//! binaryen makes the order (`--reorder-functions-by-name`) and renumbers every call, table
//! entry, export and the start for it; this step only names the functions so that their names
//! sort as their bodies do. The names are not written out: the module ships without them.
//! binaryen's reading and writing a module again adds about 1.7 KB to it, which `-Oz`, run with
//! the ordering, takes back, and more: 2.1 KB gzip less than the ordering alone.

use crate::wasm_binary::{
    sections, skip_descriptor, write_len, write_name, write_section, Reader, CODE_SECTION,
    CUSTOM_SECTION, FUNCTION_IMPORT, FUNCTION_SECTION, IMPORT_SECTION,
};
use crate::{cmd, Result};
use std::fs;
use std::path::Path;
use std::process::Command;

/// The custom section that names a module's functions, and its subsection of function names.
const NAME_SECTION: &str = "name";
const FUNCTION_NAMES: u8 = 1;

/// `wasm` (the module `file`, optimised) with its functions ordered by likeness; `work` holds
/// the intermediate files.
pub fn by_likeness(wasm: &[u8], work: &Path, file: &str) -> Result<Vec<u8>> {
    let named = named_by_likeness(wasm)
        .map_err(|e| format!("ordering {file}'s functions by likeness: {e}"))?;
    let (named_path, ordered_path) = (
        work.join(format!("named-{file}")),
        work.join(format!("ordered-{file}")),
    );
    fs::write(&named_path, named).map_err(|e| format!("writing {}: {e}", named_path.display()))?;
    // The two custom sections are for tools (who built it, with which features); the browser
    // reads neither.
    cmd::run(
        &format!("ordering {file}'s functions by likeness"),
        Command::new("wasm-opt")
            .args([
                "-Oz",
                // After `-Oz`, which orders the functions by how often they are called.
                "--reorder-functions-by-name",
                "--strip-producers",
                "--strip-target-features",
            ])
            .arg(&named_path)
            .arg("-o")
            .arg(&ordered_path),
    )?;
    let ordered =
        fs::read(&ordered_path).map_err(|e| format!("reading {}: {e}", ordered_path.display()))?;
    match names_functions(&ordered)? {
        false => Ok(ordered),
        true => Err(format!(
            "wasm-opt wrote the names used to order {file}'s functions into it"
        )),
    }
}

/// `wasm` with a name section that names each function it defines after its place among
/// them, sorted by type and then by body: `f0`, `f1` and so on, with as many digits each as the
/// last needs. Functions of one type with equal bodies keep their order.
fn named_by_likeness(wasm: &[u8]) -> Result<Vec<u8>> {
    if names_functions(wasm)? {
        return Err("it already has a name section".into());
    }
    let (mut imported, mut types, mut bodies) = (0, Vec::new(), Vec::new());
    for (id, body) in sections(wasm)? {
        match id {
            IMPORT_SECTION => imported = function_imports(body)?,
            FUNCTION_SECTION => types = function_types(body)?,
            CODE_SECTION => bodies = function_bodies(body)?,
            _ => {}
        }
    }
    if types.len() != bodies.len() {
        return Err(format!(
            "it declares {} functions and has {} bodies",
            types.len(),
            bodies.len()
        ));
    }
    let mut order: Vec<usize> = (0..bodies.len()).collect();
    order.sort_by_key(|&at| (types[at], bodies[at]));
    let width = bodies.len().saturating_sub(1).to_string().len();
    let mut names = vec![String::new(); bodies.len()];
    for (place, &at) in order.iter().enumerate() {
        names[at] = format!("f{place:0width$}");
    }
    // Function indices count the imported functions first.
    let mut map = Vec::new();
    write_len(&mut map, names.len());
    for (at, name) in names.iter().enumerate() {
        write_len(&mut map, imported + at);
        write_name(&mut map, name);
    }
    let mut section = Vec::new();
    write_name(&mut section, NAME_SECTION);
    section.push(FUNCTION_NAMES);
    write_len(&mut section, map.len());
    section.extend_from_slice(&map);
    let mut out = wasm.to_vec();
    write_section(&mut out, CUSTOM_SECTION, &section);
    Ok(out)
}

fn names_functions(wasm: &[u8]) -> Result<bool> {
    for (id, body) in sections(wasm)? {
        if id == CUSTOM_SECTION && Reader::new(body).name()? == NAME_SECTION {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How many of the imports are functions.
fn function_imports(section: &[u8]) -> Result<usize> {
    let mut reader = Reader::new(section);
    let mut functions = 0;
    for _ in 0..reader.u32()? {
        let (from, name) = (reader.name()?, reader.name()?);
        let kind = skip_descriptor(&mut reader)
            .map_err(|e| format!("its import `{name}` from `{from}` is {e}"))?;
        functions += usize::from(kind == FUNCTION_IMPORT);
    }
    match reader.done() {
        true => Ok(functions),
        false => Err("its import section has bytes after its last import".into()),
    }
}

/// Each defined function's type index.
fn function_types(section: &[u8]) -> Result<Vec<usize>> {
    let mut reader = Reader::new(section);
    let types = (0..reader.u32()?)
        .map(|_| reader.u32())
        .collect::<Result<Vec<_>>>()?;
    match reader.done() {
        true => Ok(types),
        false => Err("its function section has bytes after its last function".into()),
    }
}

/// Each function's body (its locals and code) without the length before it.
fn function_bodies(section: &[u8]) -> Result<Vec<&[u8]>> {
    let mut reader = Reader::new(section);
    let count = reader.u32()?;
    let mut bodies = Vec::with_capacity(count);
    for _ in 0..count {
        let size = reader.u32()?;
        bodies.push(reader.take(size)?);
    }
    match reader.done() {
        true => Ok(bodies),
        false => Err("its code section has bytes after its last function".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm_binary::MAGIC_AND_VERSION;

    /// One imported function and a memory, then a function of no locals per type and body.
    fn module(functions: &[(u8, &[u8])]) -> Vec<u8> {
        let (types, bodies): (Vec<u8>, Vec<&[u8]>) = functions.iter().copied().unzip();
        module_of(&types, &bodies)
    }

    /// A module declaring functions of `types` and holding `bodies`, which may not agree.
    fn module_of(types: &[u8], bodies: &[&[u8]]) -> Vec<u8> {
        let mut wasm = MAGIC_AND_VERSION.to_vec();
        // Two types: () -> () and () -> i32.
        write_section(&mut wasm, 1, &[2, 0x60, 0, 0, 0x60, 0, 1, 0x7f]);
        let mut imports = vec![2];
        write_name(&mut imports, "js");
        write_name(&mut imports, "now");
        imports.extend_from_slice(&[FUNCTION_IMPORT, 0]);
        write_name(&mut imports, "js");
        write_name(&mut imports, "memory");
        imports.extend_from_slice(&[0x02, 0x00, 0x01]);
        write_section(&mut wasm, IMPORT_SECTION, &imports);
        let mut declared = Vec::new();
        write_len(&mut declared, types.len());
        declared.extend_from_slice(types);
        write_section(&mut wasm, FUNCTION_SECTION, &declared);
        let mut code = Vec::new();
        write_len(&mut code, bodies.len());
        for body in bodies {
            write_len(&mut code, body.len() + 1);
            code.push(0); // no locals
            code.extend_from_slice(body);
        }
        write_section(&mut wasm, CODE_SECTION, &code);
        wasm
    }

    /// The name section's function names, by index, as the binary format writes them.
    fn names(named: &[(usize, &str)]) -> Vec<u8> {
        let mut map = Vec::new();
        write_len(&mut map, named.len());
        for (index, name) in named {
            write_len(&mut map, *index);
            write_name(&mut map, name);
        }
        let mut section = Vec::new();
        write_name(&mut section, "name");
        section.push(1);
        write_len(&mut section, map.len());
        section.extend_from_slice(&map);
        let mut out = Vec::new();
        write_section(&mut out, CUSTOM_SECTION, &section);
        out
    }

    const CALL_NOW: &[u8] = &[0x10, 0x00, 0x0b];
    const NOTHING: &[u8] = &[0x0b];
    const UNREACHABLE: &[u8] = &[0x00, 0x0b];

    #[test]
    fn functions_are_named_in_the_order_of_their_types_and_bodies_after_the_imported_one() {
        let wasm = module(&[
            (1, CALL_NOW),
            (0, NOTHING),
            (0, UNREACHABLE),
            (0, NOTHING),
            (0, CALL_NOW),
        ]);
        let mut expected = wasm.clone();
        // The first type's unreachable, nothing (twice, in their order) and call, then the
        // second type's call.
        expected.extend(names(&[
            (1, "f4"),
            (2, "f1"),
            (3, "f0"),
            (4, "f2"),
            (5, "f3"),
        ]));
        assert_eq!(named_by_likeness(&wasm).unwrap(), expected);
    }

    #[test]
    fn names_have_as_many_digits_as_the_last_needs() {
        let bodies: Vec<Vec<u8>> = (0..11u8).rev().map(|n| vec![0x41, n, 0x1a, 0x0b]).collect();
        let functions: Vec<(u8, &[u8])> = bodies.iter().map(|body| (0, body.as_slice())).collect();
        let wasm = module(&functions);
        let named: Vec<(usize, String)> = (0..11)
            .map(|at| (at + 1, format!("f{:02}", 10 - at)))
            .collect();
        let named: Vec<(usize, &str)> = named.iter().map(|(i, n)| (*i, n.as_str())).collect();
        let mut expected = wasm.clone();
        expected.extend(names(&named));
        assert_eq!(named_by_likeness(&wasm).unwrap(), expected);
    }

    #[test]
    fn a_module_it_cannot_read_or_that_has_names_stops_the_build() {
        let wasm = module(&[(0, NOTHING)]);
        let named = named_by_likeness(&wasm).unwrap();
        assert!(names_functions(&named).unwrap());
        assert!(!names_functions(&wasm).unwrap());
        let again = named_by_likeness(&named).unwrap_err();
        assert!(again.contains("already has a name section"), "{again}");
        let mut trailing = wasm.clone();
        // The code section's size, before its count, the body's size, no locals and `end`.
        let code_size = trailing.len() - 5;
        trailing[code_size] += 1;
        trailing.push(0x0b);
        let error = named_by_likeness(&trailing).unwrap_err();
        assert!(error.contains("bytes after its last function"), "{error}");
        let error = named_by_likeness(&wasm[..wasm.len() - 1]).unwrap_err();
        assert!(error.contains("ends in the middle of a section"), "{error}");
        let error = named_by_likeness(&module_of(&[0], &[NOTHING, NOTHING])).unwrap_err();
        assert!(
            error.contains("declares 1 functions and has 2 bodies"),
            "{error}"
        );
    }
}
