//! Map listings: every map's contents as `apiary run --dump-maps` prints them, whole
//! ([`Instance::dump_maps`]) or streamed one element at a time ([`Instance::write_map_dump`]).

use std::fmt;
use std::io;

use apiary_vm::maps::{map_type, MapError, MapKind, MapSpec, MapTable};

use crate::instance::Instance;

/// One map element: key and value bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

impl Instance {
    /// Every map's contents (ring buffers and perf arrays are consumed).
    #[must_use]
    pub fn dump_maps(&self) -> Vec<MapDump> {
        (0..self.inner.maps.len())
            .filter_map(|i| self.dump_map(i))
            .collect()
    }

    /// Writes map `index`'s contents exactly as [`Instance::dump_maps`] lists them, one
    /// element at a time: arrays and key/value maps are walked twice (once to count, once to
    /// write) and nothing is collected, so a map of any size is listed in constant memory
    /// (`apiary run --dump-maps`). Returns `false` when there is no map `index`.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_map_dump(&self, index: usize, out: &mut dyn io::Write) -> io::Result<bool> {
        let Some(map) = self.inner.maps.get(index) else {
            return Ok(false);
        };
        let spec = map.spec();
        let streamed = matches!(map.kind(), MapKind::Plain | MapKind::OfMaps)
            && !matches!(spec.map_type, map_type::QUEUE | map_type::STACK);
        if !streamed {
            if let Some(d) = self.dump_map(index) {
                write!(out, "{d}")?;
            }
            return Ok(true);
        }
        let per_slot = matches!(
            spec.map_type,
            map_type::PERCPU_ARRAY | map_type::PERCPU_HASH
        );
        let array = matches!(spec.map_type, map_type::ARRAY | map_type::PERCPU_ARRAY);
        write!(out, "{}", MapHeader::new(index, spec))?;
        let mut listed = 0usize;
        let counted = self.visit_listed(index, array, &mut |_, _| {
            listed += 1;
            Ok(())
        });
        match counted {
            Ok(()) => {}
            Err(ListStop::Map(e)) => {
                writeln!(out, ": {e}")?;
                return Ok(true);
            }
            Err(ListStop::Write(e)) => return Err(e),
        }
        let elements = spec.max_entries as usize;
        if !array || listed == elements {
            writeln!(out, ": {} entries", if array { elements } else { listed })?;
        } else {
            writeln!(
                out,
                ": {elements} entries ({} all-zero not shown)",
                elements - listed
            )?;
        }
        let written = self.visit_listed(index, array, &mut |k, v| {
            write!(out, "{}", EntryLines::new(spec, per_slot, k, v))
        });
        match written {
            Ok(()) => {}
            Err(ListStop::Map(e)) => writeln!(out, "  (listing stopped: {e})")?,
            Err(ListStop::Write(e)) => return Err(e),
        }
        Ok(true)
    }

    /// Calls `each` with every listed (key, value) of map `index`, in listing order: an array's
    /// non-zero elements by index, or every key of a key/value map in iteration order (at most
    /// `max_entries` steps). Both passes of [`Instance::write_map_dump`] see the same keys.
    fn visit_listed(
        &self,
        index: usize,
        array: bool,
        each: &mut EntrySink<'_>,
    ) -> Result<(), ListStop> {
        let max_entries = self
            .inner
            .maps
            .get(index)
            .map_or(0, |m| m.spec().max_entries);
        if array {
            for i in 0..max_entries {
                let key = i.to_le_bytes();
                if let Some(v) = self.inner.maps.lookup(index, &key).map_err(ListStop::Map)? {
                    if v.iter().any(|&b| b != 0) {
                        each(&key, &v).map_err(ListStop::Write)?;
                    }
                }
            }
            return Ok(());
        }
        let mut key = self
            .inner
            .maps
            .next_key(index, None)
            .map_err(ListStop::Map)?;
        let mut steps = 0u64;
        while let Some(k) = key {
            if steps > u64::from(max_entries) {
                break;
            }
            steps += 1;
            if let Some(v) = self.inner.maps.lookup(index, &k).map_err(ListStop::Map)? {
                each(&k, &v).map_err(ListStop::Write)?;
            }
            key = self
                .inner
                .maps
                .next_key(index, Some(&k))
                .map_err(ListStop::Map)?;
        }
        Ok(())
    }

    /// The number of maps (indices for [`Instance::write_map_dump`]).
    #[must_use]
    pub fn map_count(&self) -> usize {
        self.inner.maps.len()
    }

    fn dump_map(&self, index: usize) -> Option<MapDump> {
        let map = self.inner.maps.get(index)?;
        let spec = map.spec().clone();
        let contents = match map.kind() {
            MapKind::RingBuf(r) => MapContents::Records(r.drain()),
            MapKind::PerfEvents(p) => {
                MapContents::Records(p.drain_all().into_iter().map(|(_, r)| r).collect())
            }
            MapKind::ProgArray(p) => MapContents::Programs(
                (0..spec.max_entries)
                    .filter_map(|slot| {
                        let target = p.get(slot)? as usize;
                        let name = self
                            .program_at_slot(target)
                            .and_then(|id| self.module().name(id))
                            .unwrap_or_else(|| format!("#{target}"));
                        Some((slot, name))
                    })
                    .collect(),
            ),
            // Arrays hold max_entries elements, mostly zero: only the non-zero ones are kept
            // (a 128 MiB array is not copied into 16 Mi key/value vectors to print a few lines).
            _ if matches!(spec.map_type, map_type::ARRAY | map_type::PERCPU_ARRAY) => {
                let mut nonzero = Vec::new();
                for i in 0..spec.max_entries {
                    let key = i.to_le_bytes();
                    match self.inner.maps.lookup(index, &key) {
                        Ok(Some(v)) if v.iter().any(|&b| b != 0) => nonzero.push((key.to_vec(), v)),
                        Ok(_) => {}
                        Err(e) => {
                            return Some(MapDump {
                                index,
                                per_slot: spec.map_type == map_type::PERCPU_ARRAY,
                                spec,
                                contents: MapContents::Error(e.to_string()),
                            })
                        }
                    }
                }
                MapContents::Array {
                    elements: spec.max_entries as usize,
                    nonzero,
                }
            }
            _ if matches!(spec.map_type, map_type::QUEUE | map_type::STACK) => MapContents::Opaque(
                "queue/stack contents are not listed (popping would change them)",
            ),
            _ => match entries_of(&self.inner.maps, index) {
                Ok(e) => MapContents::Entries(e),
                Err(e) => MapContents::Error(e.to_string()),
            },
        };
        Some(MapDump {
            index,
            spec,
            per_slot: matches!(
                map.spec().map_type,
                map_type::PERCPU_ARRAY | map_type::PERCPU_HASH
            ),
            contents,
        })
    }
}

pub(crate) fn entries_of(maps: &MapTable, index: usize) -> Result<Vec<Entry>, MapError> {
    let mut out = Vec::new();
    for key in maps.keys(index)? {
        if let Some(value) = maps.lookup(index, &key)? {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// What a map listing pass does with each (key, value).
type EntrySink<'a> = dyn FnMut(&[u8], &[u8]) -> io::Result<()> + 'a;

/// Why a streamed map listing stopped: the map (listed as a message) or the writer (returned).
enum ListStop {
    Map(MapError),
    Write(io::Error),
}

/// One map's contents, for printing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDump {
    /// Index in the object.
    pub index: usize,
    /// Definition.
    pub spec: MapSpec,
    /// Per-CPU kind: values hold one 8-byte-padded copy per slot.
    pub per_slot: bool,
    /// Contents.
    pub contents: MapContents,
}

/// What a map holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapContents {
    /// Key/value pairs.
    Entries(Vec<Entry>),
    /// An array's `elements` elements, of which only the non-zero ones are listed.
    Array {
        /// Number of elements (`max_entries`).
        elements: usize,
        /// The elements with a non-zero value, in index order.
        nonzero: Vec<Entry>,
    },
    /// Ring buffer or perf records, oldest first.
    Records(Vec<Vec<u8>>),
    /// Prog array slots and the programs in them.
    Programs(Vec<(u32, String)>),
    /// Not listed, and why.
    Opaque(&'static str),
    /// Listing failed.
    Error(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A readable name of a map type.
#[must_use]
pub fn map_type_name(t: u32) -> &'static str {
    match t {
        map_type::HASH => "hash",
        map_type::ARRAY => "array",
        map_type::PROG_ARRAY => "prog_array",
        map_type::PERF_EVENT_ARRAY => "perf_event_array",
        map_type::PERCPU_HASH => "percpu_hash",
        map_type::PERCPU_ARRAY => "percpu_array",
        map_type::LRU_HASH => "lru_hash",
        map_type::LPM_TRIE => "lpm_trie",
        map_type::ARRAY_OF_MAPS => "array_of_maps",
        map_type::HASH_OF_MAPS => "hash_of_maps",
        map_type::QUEUE => "queue",
        map_type::STACK => "stack",
        map_type::RINGBUF => "ringbuf",
        _ => "other",
    }
}

impl MapDump {
    fn write_entries(&self, f: &mut fmt::Formatter<'_>, entries: &[Entry]) -> fmt::Result {
        for (k, v) in entries {
            write!(f, "{}", EntryLines::new(&self.spec, self.per_slot, k, v))?;
        }
        Ok(())
    }
}

/// The first line of a map's listing, up to the colon: `map INDEX NAME (TYPE, key K B, value
/// V B, max N[, read-only])`. The one place this format is written (whole dumps and streamed
/// ones alike).
struct MapHeader<'a> {
    index: usize,
    spec: &'a MapSpec,
}

impl<'a> MapHeader<'a> {
    const fn new(index: usize, spec: &'a MapSpec) -> Self {
        Self { index, spec }
    }
}

impl fmt::Display for MapHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.spec;
        write!(
            f,
            "map {} {} ({}, key {} B, value {} B, max {}{})",
            self.index,
            s.name,
            map_type_name(s.map_type),
            s.key_size,
            s.value_size,
            s.max_entries,
            if s.program_read_only() {
                ", read-only"
            } else {
                ""
            }
        )
    }
}

/// The lines of one key/value entry (per-CPU kinds: one line per slot).
struct EntryLines<'a> {
    spec: &'a MapSpec,
    per_slot: bool,
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> EntryLines<'a> {
    const fn new(spec: &'a MapSpec, per_slot: bool, key: &'a [u8], value: &'a [u8]) -> Self {
        Self {
            spec,
            per_slot,
            key,
            value,
        }
    }
}

impl fmt::Display for EntryLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per_slot {
            writeln!(f, "  {}:", hex(self.key))?;
            let stride = self.spec.value_stride().max(1);
            for (slot, chunk) in self.value.chunks(stride).enumerate() {
                let shown = &chunk[..(self.spec.value_size as usize).min(chunk.len())];
                writeln!(f, "    slot {slot}: {}", hex(shown))?;
            }
            Ok(())
        } else {
            writeln!(f, "  {}: {}", hex(self.key), hex(self.value))
        }
    }
}

impl fmt::Display for MapDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", MapHeader::new(self.index, &self.spec))?;
        match &self.contents {
            MapContents::Entries(e) => {
                writeln!(f, ": {} entries", e.len())?;
                self.write_entries(f, e)?;
            }
            MapContents::Array { elements, nonzero } => {
                if nonzero.len() == *elements {
                    writeln!(f, ": {elements} entries")?;
                } else {
                    writeln!(
                        f,
                        ": {elements} entries ({} all-zero not shown)",
                        elements - nonzero.len()
                    )?;
                }
                self.write_entries(f, nonzero)?;
            }
            MapContents::Records(r) => {
                writeln!(f, ": {} records", r.len())?;
                for rec in r {
                    writeln!(f, "  {}", hex(rec))?;
                }
            }
            MapContents::Programs(p) => {
                writeln!(f, ": {} programs", p.len())?;
                for (slot, name) in p {
                    writeln!(f, "  {slot}: {name}")?;
                }
            }
            MapContents::Opaque(why) => writeln!(f, ": {why}")?,
            MapContents::Error(e) => writeln!(f, ": {e}")?,
        }
        Ok(())
    }
}
