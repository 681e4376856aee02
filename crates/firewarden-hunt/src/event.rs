//! One Windows event as the rules see it: the `System` header plus every data field, flattened
//! to `name → text`, with field names resolved once to the numbers the compiled rules use.

use crate::fields::{FieldId, FieldTable};
use serde_json::Value;

/// One data field of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field id in the rule set's table, or [`FieldId::UNKNOWN`] when no rule names it.
    pub id: FieldId,
    /// Field name as the event spells it (`CommandLine`, `Provider_Name`).
    pub name: Box<str>,
    /// The value as text (numbers in decimal, as Windows shows them).
    pub value: Box<str>,
    /// The value lower-cased, kept only when it differs from `value` (Sigma matching ignores
    /// case by default, so this is computed once per event instead of once per test).
    lower: Option<Box<str>>,
}

impl Field {
    /// Makes a field, resolving its name against `table`.
    pub fn new(table: &FieldTable, name: &str, value: String) -> Self {
        let lower = lowercase_if_needed(&value);
        Field {
            id: table.lookup(name),
            name: name.into(),
            value: value.into_boxed_str(),
            lower,
        }
    }

    /// The value lower-cased.
    pub fn lower(&self) -> &str {
        self.lower.as_deref().unwrap_or(&self.value)
    }
}

fn lowercase_if_needed(value: &str) -> Option<Box<str>> {
    if value.is_ascii() {
        value
            .bytes()
            .any(|b| b.is_ascii_uppercase())
            .then(|| value.to_ascii_lowercase().into_boxed_str())
    } else {
        let l = value.to_lowercase();
        (l != value).then(|| l.into_boxed_str())
    }
}

/// How an event without a readable time is shown.
pub const TIME_UNKNOWN: &str = "time unknown";

/// Field names that hold an event's time, in order of preference: the EVTX header, then what
/// exports use (Winlogbeat's `@timestamp`, PowerShell's `TimeCreated`, WMI's `TimeGenerated`).
const TIME_FIELDS: &[&str] = &[
    "TimeCreated_SystemTime",
    "TimeCreated",
    "@timestamp",
    "TimeGenerated",
    "timestamp",
    "EventTime",
];

/// One event record, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Index of the file it came from in the hunt's file list.
    pub file: u32,
    /// `EventRecordID`.
    pub record_id: u64,
    /// Time the event was written, in microseconds since the Unix epoch (UTC); 0 when
    /// [`Event::time_known`] is false.
    pub time_micros: i64,
    /// False when the record carries no readable time (a missing or garbage `SystemTime`): the
    /// event is kept, shown as "time unknown", and never dropped by a time range.
    pub time_known: bool,
    /// `EventID` (0 when missing or not a number).
    pub event_id: u32,
    /// `Channel`, e.g. `Security`, `Microsoft-Windows-Sysmon/Operational`.
    pub channel: Box<str>,
    /// `Provider_Name`.
    pub provider: Box<str>,
    /// `Computer`.
    pub computer: Box<str>,
    /// Every field, header and data, in document order.
    pub fields: Vec<Field>,
}

impl Event {
    /// The first field with this id.
    #[inline]
    pub fn field(&self, id: FieldId) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The value of the first field named `name` (exact spelling), for built-in checks.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| &*f.name == name)
            .map(|f| &*f.value)
    }

    /// The event without its fields.
    pub fn clone_header(&self) -> Event {
        Event {
            file: self.file,
            record_id: self.record_id,
            time_micros: self.time_micros,
            time_known: self.time_known,
            event_id: self.event_id,
            channel: self.channel.clone(),
            provider: self.provider.clone(),
            computer: self.computer.clone(),
            fields: Vec::new(),
        }
    }

    /// Seconds since the epoch, for the report model (the epoch when the time is unknown: use
    /// [`Event::known_time`] where that matters).
    pub fn time(&self) -> firewarden_model::Timestamp {
        firewarden_model::Timestamp(self.time_micros.div_euclid(1_000_000))
    }

    /// The time, when the record has one.
    pub fn known_time(&self) -> Option<firewarden_model::Timestamp> {
        self.time_known.then(|| self.time())
    }

    /// Time as RFC 3339 with microseconds, e.g. `2019-03-19T23:34:25.123456Z`, or
    /// [`TIME_UNKNOWN`].
    pub fn time_rfc3339(&self) -> String {
        if !self.time_known {
            return TIME_UNKNOWN.to_owned();
        }
        let secs = self.time();
        let micros = self.time_micros.rem_euclid(1_000_000);
        let s = secs.to_string();
        // Timestamp prints `…:SSZ`; put the fraction before the zone.
        match s.strip_suffix('Z') {
            Some(head) => format!("{head}.{micros:06}Z"),
            None => s,
        }
    }

    /// Builds an event from the JSON shape of one record (as the `evtx` crate renders it, or as
    /// a JSON-lines export holds it: `{"Event": {"System": …, "EventData": …}}`, or a flat
    /// object of field names). Returns `None` when it has no `System` header and no fields.
    pub fn from_json(table: &FieldTable, file: u32, record: &Value) -> Option<Event> {
        let root = record.get("Event").unwrap_or(record);
        let obj = root.as_object()?;
        let mut fields = Vec::with_capacity(32);
        let mut push = |name: &str, value: String| fields.push(Field::new(table, name, value));
        if let Some(system) = obj.get("System") {
            flatten(system, "", &mut push, 0);
            for (k, v) in obj {
                if k != "System" && !k.starts_with('#') {
                    flatten_data(v, k, &mut push, 0);
                }
            }
        } else if let Some(winlog) = obj.get("winlog").and_then(Value::as_object) {
            // Winlogbeat / Elastic Agent (ECS): header in `winlog`, data in `event_data`.
            for (ours, theirs) in WINLOGBEAT_HEADER {
                if let Some(s) = winlog.get(*theirs).and_then(scalar) {
                    push(ours, s);
                }
            }
            if let Some(t) = obj.get("@timestamp").and_then(scalar) {
                push("@timestamp", t);
            }
            for part in ["event_data", "user_data"] {
                if let Some(data) = winlog.get(part) {
                    flatten_data(data, part, &mut push, 0);
                }
            }
        } else if FLAT_MARKERS.iter().any(|k| obj.contains_key(*k)) {
            // A flat export (our own JSON lines, PowerShell-style): every key is a field.
            for (k, v) in obj {
                flatten(v, k, &mut push, 0);
            }
        }
        if fields.is_empty() {
            return None;
        }
        let text = |name: &str| {
            fields
                .iter()
                .find(|f| &*f.name == name)
                .map(|f| f.value.clone())
                .unwrap_or_default()
        };
        let event_id = text("EventID").trim().parse().unwrap_or(0);
        let record_id = text("EventRecordID").trim().parse().unwrap_or(0);
        let channel = text("Channel");
        let provider = text("Provider_Name");
        let computer = text("Computer");
        let time = TIME_FIELDS.iter().find_map(|name| {
            fields
                .iter()
                .find(|f| &*f.name == *name)
                .and_then(|f| parse_event_time(&f.value))
        });
        Some(Event {
            file,
            record_id,
            time_micros: time.unwrap_or(0),
            time_known: time.is_some(),
            event_id,
            channel,
            provider,
            computer,
            fields,
        })
    }
}

/// Per-thread scratch that gives an event O(1) field lookup by [`FieldId`] while it is being
/// matched: slot `id` holds the index of the event's first field with that id.
#[derive(Debug, Clone)]
pub struct Slots(Vec<u16>);

const EMPTY: u16 = u16::MAX;

impl Slots {
    /// Scratch for a table of `fields` names.
    pub fn new(fields: usize) -> Self {
        Slots(vec![EMPTY; fields])
    }

    /// Runs `f` with `ev` indexed, then clears only the slots it set.
    pub fn with<R>(&mut self, ev: &Event, f: impl FnOnce(&EventView<'_>) -> R) -> R {
        for (i, field) in ev.fields.iter().enumerate().take(EMPTY as usize) {
            if let Some(slot) = self.0.get_mut(field.id.0 as usize)
                && *slot == EMPTY
            {
                *slot = i as u16;
            }
        }
        let r = f(&EventView {
            event: ev,
            slots: &self.0,
        });
        for field in &ev.fields {
            if let Some(slot) = self.0.get_mut(field.id.0 as usize) {
                *slot = EMPTY;
            }
        }
        r
    }
}

/// An event with its fields indexed by id.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    /// The event.
    pub event: &'a Event,
    slots: &'a [u16],
}

impl<'a> EventView<'a> {
    /// The first field with this id.
    #[inline]
    pub fn field(&self, id: FieldId) -> Option<&'a Field> {
        match self.slots.get(id.0 as usize) {
            Some(&s) if s != EMPTY => self.event.fields.get(s as usize),
            _ => None,
        }
    }
}

/// Winlogbeat's `winlog` names for the header fields.
const WINLOGBEAT_HEADER: &[(&str, &str)] = &[
    ("EventID", "event_id"),
    ("Channel", "channel"),
    ("Provider_Name", "provider_name"),
    ("Computer", "computer_name"),
    ("EventRecordID", "record_id"),
    ("Task", "task"),
    ("Opcode", "opcode"),
];

/// Keys that make a flat JSON object an event (anything else, such as an editor's settings
/// file, is not one).
const FLAT_MARKERS: &[&str] = &["EventID", "Channel", "EventRecordID", "Provider_Name"];

/// Deepest nesting followed; deeper content is attacker-made junk, not Windows data.
const MAX_DEPTH: usize = 12;

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Flattens the `System` header: `Provider: {#attributes: {Name}}` becomes `Provider_Name`,
/// `EventID: {#text: 4624}` becomes `EventID`.
fn flatten(v: &Value, name: &str, push: &mut impl FnMut(&str, String), depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match k.as_str() {
                    "#attributes" => {
                        if let Value::Object(attrs) = child {
                            for (ak, av) in attrs {
                                if let Some(s) = scalar(av) {
                                    let key = if name.is_empty() {
                                        ak.clone()
                                    } else {
                                        format!("{name}_{ak}")
                                    };
                                    push(&key, s);
                                }
                            }
                        }
                    }
                    "#text" => flatten(child, name, push, depth + 1),
                    _ => flatten(child, k, push, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            let joined: Vec<String> = items.iter().filter_map(scalar).collect();
            if !name.is_empty() {
                push(name, joined.join(" "));
            }
        }
        other => {
            if let Some(s) = scalar(other)
                && !name.is_empty()
            {
                push(name, s);
            }
        }
    }
}

/// Flattens `EventData`/`UserData`: named data become fields by their name; unnamed `Data`
/// items (classic event sources) become `Data`, plus `param1`, `param2`… as Windows numbers
/// them in messages.
fn flatten_data(v: &Value, name: &str, push: &mut impl FnMut(&str, String), depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match k.as_str() {
                    "#attributes" => {}
                    "#text" | "Data" => flatten_unnamed(child, push),
                    _ => match child {
                        Value::Object(_) => flatten_data(child, k, push, depth + 1),
                        Value::Array(items) if items.iter().any(Value::is_object) => {
                            for item in items {
                                flatten_data(item, k, push, depth + 1);
                            }
                        }
                        _ => flatten(child, k, push, depth + 1),
                    },
                }
            }
        }
        Value::Array(_) => flatten_unnamed(v, push),
        other => {
            if let Some(s) = scalar(other) {
                push(name, s);
            }
        }
    }
}

fn flatten_unnamed(v: &Value, push: &mut impl FnMut(&str, String)) {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| scalar(i).or_else(|| i.get("#text").and_then(scalar)))
                .collect();
            for (i, p) in parts.iter().enumerate() {
                push(&format!("param{}", i + 1), p.clone());
            }
            push("Data", parts.join(" "));
        }
        Value::Object(map) => {
            if let Some(t) = map.get("#text") {
                flatten_unnamed(t, push);
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                push("param1", s.clone());
                push("Data", s);
            }
        }
    }
}

/// Parses the time of an event as exports write it, into microseconds since the epoch:
/// RFC 3339 (`2019-03-19T23:34:25.1234567Z`, a space for the `T`, an offset), PowerShell 5's
/// `/Date(1732070400000)/`, or a number of seconds or milliseconds since the epoch. Anything
/// else (and times before 1980 or past 2200, which no Windows log holds) is `None`.
pub fn parse_event_time(text: &str) -> Option<i64> {
    const EARLIEST: i64 = 315_532_800_000_000; // 1980-01-01
    const LATEST: i64 = 7_258_118_400_000_000; // 2200-01-01
    let t = text.trim();
    let micros = if let Some(ms) = t.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits = ms.split(['+', '-']).find(|s| !s.is_empty())?;
        digits.parse::<i64>().ok()?.checked_mul(1000)?
    } else if !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_digit()) {
        let n = t.parse::<i64>().ok()?;
        if t.len() >= 13 {
            n.checked_mul(1000)?
        } else {
            n.checked_mul(1_000_000)?
        }
    } else {
        parse_system_time(t)?
    };
    (EARLIEST..LATEST).contains(&micros).then_some(micros)
}

/// Parses `2019-03-19T23:34:25.1234567Z` into microseconds since the epoch.
pub fn parse_system_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let secs = firewarden_model::Timestamp::parse(t)?.0;
    let mut micros = 0i64;
    if let Some(dot) = t.find('.') {
        let digits: String = t[dot + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .take(6)
            .collect();
        if !digits.is_empty() {
            micros = digits.parse::<i64>().ok()? * 10i64.pow(6 - digits.len() as u32);
        }
    }
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_system_header_and_named_data() {
        let table = FieldTable::default();
        let rec = json!({"Event": {"#attributes": {"xmlns": "x"}, "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing", "Guid": "{g}"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4624},
            "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:25.123456Z"}},
            "EventRecordID": 7, "Channel": "Security", "Computer": "DC01"},
            "EventData": {"TargetUserName": "bob", "LogonType": 10, "IpAddress": "10.0.0.5"}}});
        let e = Event::from_json(&table, 0, &rec).unwrap();
        assert_eq!(e.event_id, 4624);
        assert_eq!(e.record_id, 7);
        assert_eq!(&*e.channel, "Security");
        assert_eq!(&*e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.get("LogonType"), Some("10"));
        assert_eq!(e.get("EventID_Qualifiers"), Some("0"));
        assert_eq!(e.time_rfc3339(), "2019-03-19T23:34:25.123456Z");
    }

    #[test]
    fn unnamed_data_and_user_data() {
        let table = FieldTable::default();
        let rec = json!({"Event": {"System": {"EventID": 104, "Channel": "System"},
            "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "y"}, "SubjectUserName": "admin", "Channel": "Application"}},
            "EventData": {"Data": {"#text": ["a", "b"]}}}});
        let e = Event::from_json(&table, 0, &rec).unwrap();
        assert_eq!(e.get("SubjectUserName"), Some("admin"));
        assert_eq!(e.get("param2"), Some("b"));
        assert_eq!(e.get("Data"), Some("a b"));
        // The header's Channel wins over a data field of the same name.
        assert_eq!(&*e.channel, "System");
    }

    #[test]
    fn winlogbeat_and_flat_exports() {
        let table = FieldTable::default();
        let wlb = json!({"@timestamp": "2026-11-20T03:10:00.250Z", "winlog": {"event_id": "4625",
            "channel": "Security", "computer_name": "DC1", "record_id": 9,
            "event_data": {"TargetUserName": "bob", "IpAddress": "203.0.113.7"}}});
        let e = Event::from_json(&table, 0, &wlb).unwrap();
        assert_eq!(
            (e.event_id, &*e.channel, e.record_id),
            (4625, "Security", 9)
        );
        assert_eq!(e.get("IpAddress"), Some("203.0.113.7"));
        assert_eq!(e.time_rfc3339(), "2026-11-20T03:10:00.250000Z");
        let flat =
            json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "x"});
        assert_eq!(
            Event::from_json(&table, 0, &flat).unwrap().get("Image"),
            Some("x")
        );
        assert!(Event::from_json(&table, 0, &json!({"editor.tabSize": 2})).is_none());
    }

    #[test]
    fn lower_is_cached_only_when_needed() {
        let table = FieldTable::default();
        let f = Field::new(&table, "a", "abc".into());
        assert!(f.lower.is_none());
        let g = Field::new(&table, "a", "ÄBC".into());
        assert_eq!(g.lower(), "äbc");
    }
}
