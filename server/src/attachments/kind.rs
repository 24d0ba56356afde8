//! What a file really is, decided from its bytes, with the name's extension required to agree.
//!
//! Magic numbers come from the `infer` crate (well kept, no dependencies besides `cfb`). Two
//! parts are our own because `infer` only guesses there:
//! - OOXML (docx/xlsx/pptx): `infer` looks at the first local header only, which many writers
//!   fill with `[Content_Types].xml`; we read the zip's central directory (the `zip` crate
//!   without compression features: names only, nothing is ever decompressed, so a zip bomb
//!   costs nothing) and look for `word/`, `xl/` or `ppt/`.
//! - OLE2 (doc/xls/ppt): `infer` classifies by the root CLSID; when a writer leaves it empty
//!   we look for the stream each format must have (`WordDocument`, `Workbook`/`Book`,
//!   `PowerPoint Document`) through `cfb`, which `infer` already depends on.
//! - Text has no magic number: valid UTF-8 (an optional BOM) without NUL bytes.

use std::io::Cursor;

/// The types we accept. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Pdf,
    Doc,
    Docx,
    Xls,
    Xlsx,
    Ppt,
    Pptx,
    Txt,
}

impl FileKind {
    pub const ALL: [FileKind; 12] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Pdf,
        Self::Doc,
        Self::Docx,
        Self::Xls,
        Self::Xlsx,
        Self::Ppt,
        Self::Pptx,
        Self::Txt,
    ];

    /// Every Content-Type we store, in the order of [`Self::ALL`].
    pub const CONTENT_TYPES: [&'static str; Self::ALL.len()] = {
        let mut types = [""; Self::ALL.len()];
        let mut i = 0;
        while i < types.len() {
            types[i] = Self::ALL[i].content_type();
            i += 1;
        }
        types
    };

    /// The Content-Type we store and serve.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Doc => "application/msword",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xls => "application/vnd.ms-excel",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Ppt => "application/vnd.ms-powerpoint",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::Txt => "text/plain; charset=utf-8",
        }
    }

    /// The canonical extension (without the dot), e.g. for the download's file name.
    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }

    /// Every extension a file of this kind may carry, canonical first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg"],
            Self::Png => &["png"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Pdf => &["pdf"],
            Self::Doc => &["doc"],
            Self::Docx => &["docx"],
            Self::Xls => &["xls"],
            Self::Xlsx => &["xlsx"],
            Self::Ppt => &["ppt"],
            Self::Pptx => &["pptx"],
            Self::Txt => &["txt"],
        }
    }

    /// Raster images are re-encoded by [`super::image::optimize`] before they are stored.
    pub fn is_raster_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Gif | Self::Webp)
    }

    /// A short name for messages ("a PNG image").
    pub fn label(self) -> &'static str {
        match self {
            Self::Jpeg => "a JPEG image",
            Self::Png => "a PNG image",
            Self::Gif => "a GIF image",
            Self::Webp => "a WebP image",
            Self::Pdf => "a PDF document",
            Self::Doc => "a Word document (.doc)",
            Self::Docx => "a Word document (.docx)",
            Self::Xls => "an Excel workbook (.xls)",
            Self::Xlsx => "an Excel workbook (.xlsx)",
            Self::Ppt => "a PowerPoint presentation (.ppt)",
            Self::Pptx => "a PowerPoint presentation (.pptx)",
            Self::Txt => "a text file",
        }
    }

    fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.extensions().contains(&ext))
    }
}

/// Why a file was refused. `message()` is safe to show to the user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KindError {
    #[error("empty file")]
    Empty,
    #[error("file name without an allowed extension: {0:?}")]
    BadExtension(String),
    #[error("executable content")]
    Executable,
    #[error("unsupported content")]
    Unsupported,
    #[error("content is {detected:?} but the name ends in .{extension}")]
    ExtensionMismatch {
        detected: FileKind,
        extension: String,
    },
}

impl KindError {
    /// A stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "file_empty",
            Self::BadExtension(_) => "file_extension_not_allowed",
            Self::Executable => "file_executable",
            Self::Unsupported => "file_type_not_allowed",
            Self::ExtensionMismatch { .. } => "file_extension_mismatch",
        }
    }

    /// What the user reads.
    pub fn message(&self) -> String {
        const ALLOWED: &str = "JPEG, PNG, GIF, WebP, PDF, Word, Excel, PowerPoint or plain text";
        match self {
            Self::Empty => "The file is empty.".into(),
            Self::BadExtension(ext) if ext.is_empty() => {
                format!("The file name has no extension. Allowed files: {ALLOWED}.")
            }
            Self::BadExtension(ext) => {
                format!("Files ending in .{ext} are not accepted. Allowed files: {ALLOWED}.")
            }
            Self::Executable => "Programs and executable files are not accepted.".into(),
            Self::Unsupported => {
                format!("This type of file is not accepted. Allowed files: {ALLOWED}.")
            }
            Self::ExtensionMismatch {
                detected,
                extension,
            } => format!(
                "The file is named .{extension} but its content is {}; rename it to .{} and \
                 try again.",
                detected.label(),
                detected.extension()
            ),
        }
    }
}

/// The lower-cased last extension of `file_name` ("" when there is none).
fn extension_of(file_name: &str) -> String {
    // Browsers may send a path (old IE); only the last component counts.
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.trim().to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Decides the kind of `bytes` and checks that `file_name`'s extension agrees.
pub fn detect(file_name: &str, bytes: &[u8]) -> Result<FileKind, KindError> {
    if bytes.is_empty() {
        return Err(KindError::Empty);
    }
    let extension = extension_of(file_name);
    let detected = sniff(bytes)?;
    let Some(claimed) = FileKind::from_extension(&extension) else {
        // Name the real type when we know it: more useful than "bad extension".
        return Err(match detected {
            Some(detected) => KindError::ExtensionMismatch {
                detected,
                extension,
            },
            None => KindError::BadExtension(extension),
        });
    };
    match detected {
        Some(kind) if kind == claimed => Ok(kind),
        Some(kind) => Err(KindError::ExtensionMismatch {
            detected: kind,
            extension,
        }),
        None if claimed == FileKind::Txt && is_text(bytes) => Ok(FileKind::Txt),
        None => Err(KindError::Unsupported),
    }
}

/// The kind the bytes prove, `None` for "no known binary format" (maybe text), or an error
/// for content we refuse whatever its name.
fn sniff(bytes: &[u8]) -> Result<Option<FileKind>, KindError> {
    if infer::is_app(bytes) || looks_like_script(bytes) {
        return Err(KindError::Executable);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return ooxml(bytes).map(Some).ok_or(KindError::Unsupported);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return ole2(bytes).map(Some).ok_or(KindError::Unsupported);
    }
    let Some(found) = infer::get(bytes) else {
        return Ok(None);
    };
    Ok(match found.mime_type() {
        "image/jpeg" => Some(FileKind::Jpeg),
        "image/png" => Some(FileKind::Png),
        "image/gif" => Some(FileKind::Gif),
        "image/webp" => Some(FileKind::Webp),
        "application/pdf" => Some(FileKind::Pdf),
        // infer knows some text formats (HTML, XML, shell); they are text to us, and are
        // served as text/plain with nosniff, never rendered.
        _ if found.matcher_type() == infer::MatcherType::Text => None,
        _ => return Err(KindError::Unsupported),
    })
}

/// Scripts with a `#!` line are programs even if they are text.
fn looks_like_script(bytes: &[u8]) -> bool {
    bytes.starts_with(b"#!")
}

fn ooxml(bytes: &[u8]) -> Option<FileKind> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut names = archive.file_names();
    let kind = names.find_map(|name| {
        if name.starts_with("word/") {
            Some(FileKind::Docx)
        } else if name.starts_with("xl/") {
            Some(FileKind::Xlsx)
        } else if name.starts_with("ppt/") {
            Some(FileKind::Pptx)
        } else {
            None
        }
    })?;
    let has_content_types = archive.file_names().any(|n| n == "[Content_Types].xml");
    has_content_types.then_some(kind)
}

fn ole2(bytes: &[u8]) -> Option<FileKind> {
    if infer::doc::is_doc(bytes) {
        return Some(FileKind::Doc);
    }
    if infer::doc::is_xls(bytes) {
        return Some(FileKind::Xls);
    }
    if infer::doc::is_ppt(bytes) {
        return Some(FileKind::Ppt);
    }
    let file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    if file.is_stream("/WordDocument") {
        Some(FileKind::Doc)
    } else if file.is_stream("/Workbook") || file.is_stream("/Book") {
        Some(FileKind::Xls)
    } else if file.is_stream("/PowerPoint Document") {
        Some(FileKind::Ppt)
    } else {
        None
    }
}

/// Valid UTF-8 (an optional BOM) without NUL bytes.
fn is_text(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    !body.contains(&0) && std::str::from_utf8(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf() -> Vec<u8> {
        // An x86-64 ELF header (64 bytes), the start of any Linux program.
        let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
        bytes.resize(64, 0);
        bytes
    }
    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const JPEG_HEAD: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";

    fn pe() -> Vec<u8> {
        // A DOS header whose e_lfanew points at a PE signature, as infer checks.
        let mut bytes = vec![0u8; 256];
        bytes[0..2].copy_from_slice(b"MZ");
        bytes[0x3C] = 0x80;
        bytes[0x80..0x84].copy_from_slice(b"PE\0\0");
        bytes
    }

    fn zip_with(names: &[&str]) -> Vec<u8> {
        // A stored (uncompressed) zip, written by hand so the test needs no zip writer.
        let mut out = Vec::new();
        let mut central = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
            out.extend_from_slice(&0u32.to_le_bytes()); // crc of empty data
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            central.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
            central.extend_from_slice(&0u32.to_le_bytes());
            central.extend_from_slice(&0u32.to_le_bytes());
            central.extend_from_slice(&0u32.to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(super::super::fixture_path(name)).expect("fixture")
    }

    #[test]
    fn real_images_pass_with_their_extension_in_any_case() {
        assert_eq!(
            detect("Photo.JPG", &fixture("photo-4032x3024.jpg")),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            detect("p.jpeg", &fixture("photo-4032x3024.jpg")),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            detect("d.png", &fixture("diagram-2400x1800-alpha.png")),
            Ok(FileKind::Png)
        );
        assert_eq!(
            detect("g.gif", b"GIF89a\x01\0\x01\0\0\0\0;"),
            Ok(FileKind::Gif)
        );
        assert_eq!(
            detect("w.webp", b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0"),
            Ok(FileKind::Webp)
        );
    }

    #[test]
    fn executable_named_pdf_is_refused() {
        let err = detect("invoice.pdf", &elf()).unwrap_err();
        assert_eq!(err, KindError::Executable);
        assert!(err.message().contains("not accepted"));
        assert_eq!(detect("invoice.pdf", &pe()), Err(KindError::Executable));
        assert_eq!(
            detect("notes.txt", b"#!/bin/sh\nrm -rf /\n"),
            Err(KindError::Executable)
        );
    }

    #[test]
    fn png_renamed_jpg_is_refused_and_named() {
        let err = detect("holiday.jpg", PNG_HEAD).unwrap_err();
        assert_eq!(
            err,
            KindError::ExtensionMismatch {
                detected: FileKind::Png,
                extension: "jpg".into()
            }
        );
        assert!(err.message().contains("PNG"), "{}", err.message());
        assert!(detect("x.png", JPEG_HEAD).is_err());
    }

    #[test]
    fn empty_unknown_and_extensionless_files_are_refused() {
        assert_eq!(detect("a.pdf", b""), Err(KindError::Empty));
        assert_eq!(detect("a.pdf", b"hello"), Err(KindError::Unsupported));
        assert_eq!(
            detect("a.exe", b"hello"),
            Err(KindError::BadExtension("exe".into()))
        );
        assert_eq!(
            detect("README", b"hello"),
            Err(KindError::BadExtension(String::new()))
        );
        assert_eq!(
            detect(".txt", b"hello"),
            Err(KindError::BadExtension(String::new()))
        );
        // A known binary format we do not accept, whatever its name.
        assert_eq!(
            detect("a.txt", b"\x1f\x8b\x08\0\0\0\0\0\0\x03"),
            Err(KindError::Unsupported)
        );
    }

    #[test]
    fn pdf_and_text() {
        assert_eq!(detect("a.pdf", b"%PDF-1.7\n%..."), Ok(FileKind::Pdf));
        assert_eq!(
            detect("a.txt", "héllo\nworld".as_bytes()),
            Ok(FileKind::Txt)
        );
        assert_eq!(detect("a.txt", b"\xEF\xBB\xBFbom"), Ok(FileKind::Txt));
        assert_eq!(detect("a.txt", b"<html><body>x"), Ok(FileKind::Txt));
        assert_eq!(detect("a.txt", b"a\0b"), Err(KindError::Unsupported));
        assert_eq!(
            detect("a.txt", b"\xff\xfe\xfd"),
            Err(KindError::Unsupported)
        );
        // A PDF is not text, even when named so.
        assert!(matches!(
            detect("a.txt", b"%PDF-1.4"),
            Err(KindError::ExtensionMismatch { .. })
        ));
    }

    #[test]
    fn office_open_xml_is_read_from_the_central_directory() {
        // `[Content_Types].xml` first, as Office writes it: infer alone would miss these.
        let docx = zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        let xlsx = zip_with(&["[Content_Types].xml", "docProps/app.xml", "xl/workbook.xml"]);
        let pptx = zip_with(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert_eq!(detect("a.docx", &docx), Ok(FileKind::Docx));
        assert_eq!(detect("a.xlsx", &xlsx), Ok(FileKind::Xlsx));
        assert_eq!(detect("a.pptx", &pptx), Ok(FileKind::Pptx));
        assert!(matches!(
            detect("a.docx", &xlsx),
            Err(KindError::ExtensionMismatch { .. })
        ));
        // A plain zip, or one that only pretends, is refused.
        assert_eq!(
            detect("a.docx", &zip_with(&["word/document.xml"])),
            Err(KindError::Unsupported)
        );
        assert_eq!(
            detect("a.docx", &zip_with(&["a.txt"])),
            Err(KindError::Unsupported)
        );
        assert_eq!(
            detect("a.docx", b"PK\x03\x04garbage"),
            Err(KindError::Unsupported)
        );
    }

    #[test]
    fn ole2_needs_a_real_compound_file() {
        let mut fake = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        fake.extend_from_slice(&[0; 504]);
        assert_eq!(detect("a.doc", &fake), Err(KindError::Unsupported));
    }

    #[test]
    fn ole2_streams_decide_doc_xls_ppt() {
        let make = |stream: &str| {
            let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
            cfb.create_stream(stream).unwrap();
            cfb.flush().unwrap();
            cfb.into_inner().into_inner()
        };
        assert_eq!(detect("a.doc", &make("/WordDocument")), Ok(FileKind::Doc));
        assert_eq!(detect("a.xls", &make("/Workbook")), Ok(FileKind::Xls));
        assert_eq!(
            detect("a.ppt", &make("/PowerPoint Document")),
            Ok(FileKind::Ppt)
        );
        assert!(matches!(
            detect("a.doc", &make("/Workbook")),
            Err(KindError::ExtensionMismatch { .. })
        ));
    }

    #[test]
    fn every_kind_has_a_content_type_and_canonical_extension() {
        for kind in FileKind::ALL {
            assert!(!kind.content_type().is_empty());
            assert_eq!(FileKind::from_extension(kind.extension()), Some(kind));
        }
    }
}
