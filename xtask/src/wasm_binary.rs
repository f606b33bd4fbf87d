//! Reading and writing the wasm binary format, as far as the release build's own steps need it
//! (`import_names.rs`, `code_order.rs`): sections, LEB128 numbers, names and import descriptors.
//! Anything the format does not define, or this does not know, is an error that stops the build.

use crate::Result;

/// Section ids in the binary format.
pub const CUSTOM_SECTION: u8 = 0;
pub const IMPORT_SECTION: u8 = 2;
pub const FUNCTION_SECTION: u8 = 3;
pub const CODE_SECTION: u8 = 10;
pub const MAGIC_AND_VERSION: &[u8] = b"\0asm\x01\0\0\0";
/// An import's kind, the first byte of its descriptor, when it is a function.
pub const FUNCTION_IMPORT: u8 = 0x00;

/// The module's sections in order, as their ids and bodies.
pub fn sections(wasm: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    let mut reader = match wasm.strip_prefix(MAGIC_AND_VERSION) {
        Some(sections) => Reader::new(sections),
        None => return Err("it is not a wasm module of version 1".into()),
    };
    let mut sections = Vec::new();
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.u32()?;
        sections.push((id, reader.take(size)?));
    }
    Ok(sections)
}

pub fn write_section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    write_len(out, body.len());
    out.extend_from_slice(body);
}

/// Reads an import's descriptor (what kind of thing it is, and its type) to know its length,
/// and returns its kind; anything the binary format does not define, or this does not know, is
/// an error.
pub fn skip_descriptor(reader: &mut Reader) -> Result<u8> {
    let kind = reader.byte()?;
    let read = match kind {
        FUNCTION_IMPORT => reader.u32().map(drop), // a function: its type's index
        0x01 => {
            reference_type(reader)?; // a table: its element type and limits
            limits(reader)
        }
        0x02 => limits(reader), // a memory
        0x03 => {
            match reader.byte()? {
                0x7b..=0x7f => {} // i32, i64, f32, f64, v128
                0x70 | 0x6f => {} // funcref, externref
                other => return Err(format!("a global of value type {other:#x}")),
            }
            match reader.byte()? {
                0x00 | 0x01 => Ok(()), // its mutability
                other => Err(format!("a global of mutability {other:#x}")),
            }
        }
        0x04 => match reader.byte()? {
            0x00 => reader.u32().map(drop), // a tag: an exception, of a type's index
            other => Err(format!("a tag of attribute {other:#x}")),
        },
        other => Err(format!(
            "of kind {other:#x}, which this build does not know"
        )),
    };
    read.map(|()| kind)
}

fn reference_type(reader: &mut Reader) -> Result<()> {
    match reader.byte()? {
        0x70 | 0x6f => Ok(()),
        other => Err(format!("a table of element type {other:#x}")),
    }
}

/// Minimum, and maximum when flagged; shared and 64-bit memories have the same layout.
fn limits(reader: &mut Reader) -> Result<()> {
    let flags = reader.byte()?;
    if flags & !0x07 != 0 {
        return Err(format!("limited with flags {flags:#x}"));
    }
    reader.leb()?;
    if flags & 0x01 != 0 {
        reader.leb()?;
    }
    Ok(())
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or("it ends in the middle of a section")?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(taken)
    }

    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned LEB128 number of at most `bits`, in at most as many bytes as those need.
    fn leb_of(&mut self, bits: u32) -> Result<u64> {
        let mut value = 0u128;
        for shift in (0..bits).step_by(7) {
            let byte = self.byte()?;
            value |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return match value >> bits {
                    0 => Ok(value as u64),
                    _ => Err(format!("it has a number over {bits} bits")),
                };
            }
        }
        Err(format!("it has a number longer than {bits} bits"))
    }

    /// A memory's or table's limit, which may be 64-bit.
    fn leb(&mut self) -> Result<u64> {
        self.leb_of(64)
    }

    /// A count, length or index.
    pub fn u32(&mut self) -> Result<usize> {
        Ok(self.leb_of(32)? as usize)
    }

    pub fn name(&mut self) -> Result<&'a str> {
        let len = self.u32()?;
        std::str::from_utf8(self.take(len)?).map_err(|_| "it has a name that is not UTF-8".into())
    }
}

pub fn write_len(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub fn write_name(out: &mut Vec<u8>, name: &str) {
    write_len(out, name.len());
    out.extend_from_slice(name.as_bytes());
}
