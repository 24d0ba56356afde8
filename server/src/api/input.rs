//! JSON request bodies: every problem answered in the API's envelope, in the user's words,
//! under the field it concerns, never with a Rust type name (serde's own messages say
//! "expected struct TaskInput with 10 elements").

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, FieldErrors};

/// `Json<T>` whose rejections (malformed JSON, wrong types, missing content type) are answered
/// with the API's error envelope: 415, 413, or 400 with the field and what it expects.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The request body could not be read".into())
            }
        })?;
        parse(&bytes).map(Self)
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|essence| {
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        })
}

const NOT_AN_OBJECT: &str = "The request body must be a JSON object";

/// Parses a JSON body into `T`, or says what is wrong with it.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| not_json(&e))?;
    // serde would also read a struct from an array (`[1, 2]`): say what the API takes.
    if !value.is_object() {
        return Err(AppError::BadRequest(NOT_AN_OBJECT.into()));
    }
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(describe)
}

/// JSON does not tell `30` from `30.0`, and JSON Schema calls both integers; serde refuses the
/// second for an integer field. A number with no fraction becomes an integer (a float field
/// takes either).
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // Beyond 2^53 a float no longer holds every integer: left as it is.
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn not_json(error: &serde_json::Error) -> AppError {
    AppError::BadRequest(format!(
        "The request body is not valid JSON (line {}, column {})",
        error.line(),
        error.column()
    ))
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    // serde_json may append a position to its messages; the field is named instead.
    let text = inner.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let at_root = path == ".";
    if let Some(field) = between_backticks(text.strip_prefix("missing field ")) {
        let field = if at_root {
            field
        } else {
            format!("{path}.{field}")
        };
        return field_error(field, "This field is required".into());
    }
    if at_root {
        return AppError::BadRequest(NOT_AN_OBJECT.into());
    }
    field_error(path, explain(text))
}

fn field_error(field: String, message: String) -> AppError {
    let mut fields = FieldErrors::new();
    fields.insert(field.clone(), vec![message.clone()]);
    AppError::Validation {
        message: format!("{field}: {message}"),
        fields,
    }
}

/// The text between the first pair of backticks.
fn between_backticks(text: Option<&str>) -> Option<String> {
    let rest = text?.split_once('`')?.1;
    Some(rest.split_once('`')?.0.to_string())
}

/// serde's description of a value's problem, in the user's words.
fn explain(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        // "unknown variant `x`, expected one of `a`, `b`" or "expected `a` or `b`"
        let choices: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, e)| e.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        return if choices.is_empty() {
            "This value is not one of the accepted ones".into()
        } else {
            format!("Use one of: {}", choices.join(", "))
        };
    }
    let expected = text
        .strip_prefix("invalid type: ")
        .or_else(|| text.strip_prefix("invalid value: "))
        .or_else(|| text.strip_prefix("invalid length "))
        .and_then(|rest| rest.split_once(", expected ").map(|(_, e)| e));
    match expected {
        Some(expected) => format!("Expected {}", kind(expected)),
        // A message of the value's own parser (a date, an id…): shown unless it names code.
        None if !names_code(text) => capitalise(text),
        None => "This value is not valid here".into(),
    }
}

/// What serde expected, as a kind of JSON value.
fn kind(expected: &str) -> &'static str {
    let e = expected.to_ascii_lowercase();
    let integer = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ];
    // Order matters: "struct" contains "str".
    if e.contains("struct") || e.contains("map") {
        "an object"
    } else if e.contains("sequence") || e.contains("array") || e.contains("tuple") {
        "a list"
    } else if e.contains("bool") {
        "true or false"
    } else if integer
        .iter()
        .any(|t| e.split_whitespace().any(|w| w == *t))
        || e.contains("integer")
    {
        "a whole number"
    } else if e.contains("f32") || e.contains("f64") || e.contains("number") || e.contains("float")
    {
        "a number"
    } else if e.contains("string") || e.contains("str") || e.contains("identifier") {
        "text"
    } else {
        "another kind of value"
    }
}

fn names_code(text: &str) -> bool {
    ["struct", "enum", "::", "`", "variant", "newtype"]
        .iter()
        .any(|w| text.contains(w))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Input {
        title: String,
        done: Option<bool>,
        count: Option<u32>,
        ratio: Option<f64>,
        kind: Option<Kind>,
        tags: Option<Vec<String>>,
        inner: Option<Inner>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Email,
        Push,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Inner {
        name: String,
    }

    fn problem(body: &str) -> (String, FieldErrors) {
        match parse::<Input>(body.as_bytes()) {
            Err(AppError::Validation { message, fields }) => (message, fields),
            Err(AppError::BadRequest(message)) => (message, FieldErrors::new()),
            other => panic!("expected a refusal for {body}, got {other:?}"),
        }
    }

    fn field(body: &str, name: &str) -> String {
        let (message, fields) = problem(body);
        let first = fields.get(name).and_then(|m| m.first()).cloned();
        let first = first.unwrap_or_else(|| panic!("no error under {name}: {fields:?}"));
        assert!(message.starts_with(name), "{message}");
        first
    }

    #[test]
    fn the_body_must_be_an_object() {
        for body in ["[]", "1", "\"x\"", "null", "[1,2]"] {
            let (message, fields) = problem(body);
            assert_eq!(message, "The request body must be a JSON object", "{body}");
            assert!(fields.is_empty());
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        let (message, _) = problem("{\"title\": ");
        assert!(
            message.starts_with("The request body is not valid JSON (line 1"),
            "{message}"
        );
        let (message, _) = problem(r#"{"title": "a"} trailing"#);
        assert!(
            message.starts_with("The request body is not valid JSON"),
            "{message}"
        );
    }

    #[test]
    fn each_problem_is_named_under_its_field() {
        let cases = [
            ("{}", "title", "This field is required"),
            (r#"{"title": 5}"#, "title", "Expected text"),
            (
                r#"{"title":"a","done":"false"}"#,
                "done",
                "Expected true or false",
            ),
            (
                r#"{"title":"a","count":-1}"#,
                "count",
                "Expected a whole number",
            ),
            (
                r#"{"title":"a","count":1.5}"#,
                "count",
                "Expected a whole number",
            ),
            (r#"{"title":"a","ratio":"x"}"#, "ratio", "Expected a number"),
            (
                r#"{"title":"a","kind":"sms"}"#,
                "kind",
                "Use one of: email, push",
            ),
            (r#"{"title":"a","tags":"x"}"#, "tags", "Expected a list"),
            (r#"{"title":"a","tags":[1]}"#, "tags[0]", "Expected text"),
            (
                r#"{"title":"a","inner":{}}"#,
                "inner.name",
                "This field is required",
            ),
            (r#"{"title":"a","inner":[]}"#, "inner", "Expected an object"),
        ];
        for (body, name, expected) in cases {
            assert_eq!(field(body, name), expected, "{body}");
        }
    }

    #[test]
    fn a_whole_number_may_be_written_with_a_fraction_of_zero() {
        let input = parse::<Input>(br#"{"title":"a","count":30.0,"ratio":2}"#).unwrap();
        assert_eq!((input.count, input.ratio), (Some(30), Some(2.0)));
    }

    #[test]
    fn no_message_names_a_rust_type() {
        let bodies = [
            "[]",
            "{}",
            r#"{"title": {}}"#,
            r#"{"title":"a","inner":[1]}"#,
            r#"{"title":"a","kind":1}"#,
            r#"{"title":"a","count":99999999999}"#,
        ];
        for body in bodies {
            let (message, fields) = problem(body);
            let all = std::iter::once(message).chain(fields.into_values().flatten());
            for text in all {
                assert!(
                    !["Input", "Inner", "Kind", "struct", "enum", "u32", "elements"]
                        .iter()
                        .any(|w| text.contains(w)),
                    "{body}: {text}"
                );
            }
        }
    }
}
