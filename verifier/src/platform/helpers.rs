//! Helper prototypes: what each argument must be and what the helper returns.

/// The kind of one helper argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Not passed.
    None,
    /// Any initialised value (a number for unprivileged program types).
    Anything,
    /// Any initialised value, pointers included (a callback's context argument).
    AnyPointer,
    /// A map handle whose type is in the list (empty list: any type).
    Map(&'static [u32]),
    /// A pointer to `key_size` readable, initialised bytes (the map is the previous map argument).
    MapKey,
    /// A pointer to `value_size` readable, initialised bytes.
    MapValue,
    /// A pointer to `value_size` writable bytes (the helper fills them).
    MapValueOut,
    /// As [`Arg::MapValue`], or null (Linux's `ARG_PTR_TO_MAP_VALUE_OR_NULL`: the initial
    /// value of `bpf_sk_storage_get`).
    MapValueOrNull,
    /// A pointer to readable, initialised memory; its size is the next argument.
    Mem,
    /// As [`Arg::Mem`], or a null pointer when the size is zero.
    MemOrNull,
    /// A pointer to writable memory the helper fills; its size is the next argument.
    MemOut,
    /// A pointer to initialised memory the helper reads and writes; size in the next argument.
    MemInOut,
    /// The size of the previous memory argument: a number `> 0`.
    Size,
    /// The size of the previous memory argument: a number `>= 0`.
    SizeOrZero,
    /// The context pointer, at offset 0.
    Ctx,
    /// A kernel object of a BTF type (Linux's `ARG_PTR_TO_BTF_ID*`: a socket, a task): a
    /// BTF pointer (`domain::Val::Kernel`) and nothing else. The helper reads the object with
    /// its own checks.
    BtfPtr,
    /// A function address (`lddw` src 4) of a callback.
    Callback,
    /// A non-null ring-buffer record at offset 0; the helper releases it.
    RingbufRecord,
    /// A pointer to at least one readable byte (a string the helper reads with checks: the
    /// conformance helpers only).
    Str,
    /// Linux's `ARG_PTR_TO_CONST_STR`: the helper reads up to a NUL with no bound of its own,
    /// so the pointer must be into a read-only map value whose bytes are known, at a constant
    /// offset, with a NUL at or after it inside the value.
    ConstStr,
}

/// What a helper returns in r0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Any number.
    Scalar,
    /// A number in `[lo, hi]` (unsigned).
    Range(u64, u64),
    /// A pointer to the value of the first argument's map, or null.
    MapValueOrNull,
    /// A ring-buffer record of the size given by the second argument (a constant), or null.
    RingbufOrNull,
    /// A kernel object of a BTF type (Linux's `RET_PTR_TO_BTF_ID`), possibly null: a number
    /// the program may also load through, with probe reads (`domain::Val::Kernel`).
    BtfPtr,
}

/// A helper prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperProto {
    /// Name, for messages.
    pub name: &'static str,
    /// r1–r5.
    pub args: [Arg; 5],
    /// Return value.
    pub ret: Ret,
    /// Whether the helper may move packet data (invalidates packet pointers).
    pub reallocates_packet: bool,
    /// The helper may end the run with this r0 (the conformance `unwind` helper).
    pub stops_with: Option<u64>,
    /// Callback invocation: the callback receives these argument kinds (e.g. `bpf_loop`).
    pub callback: Option<CallbackKind>,
}

/// How a helper calls its callback argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    /// `bpf_loop`: `cb(u32 index, void *ctx)`, ctx = the helper's third argument.
    Loop,
    /// `bpf_for_each_map_elem`: `cb(map, key *, value *, ctx)`, ctx = the third argument.
    ForEachMapElem,
}

impl HelperProto {
    /// A prototype with the given arguments returning a number.
    #[must_use]
    pub const fn new(name: &'static str, args: &[Arg]) -> Self {
        let mut a = [Arg::None; 5];
        let mut i = 0;
        while i < args.len() && i < 5 {
            a[i] = args[i];
            i += 1;
        }
        Self {
            name,
            args: a,
            ret: Ret::Scalar,
            reallocates_packet: false,
            stops_with: None,
            callback: None,
        }
    }

    /// With this return kind.
    #[must_use]
    pub const fn returns(mut self, ret: Ret) -> Self {
        self.ret = ret;
        self
    }

    /// Marked as moving packet data.
    #[must_use]
    pub const fn reallocates(mut self) -> Self {
        self.reallocates_packet = true;
        self
    }

    /// Calling a callback.
    #[must_use]
    pub const fn with_callback(mut self, kind: CallbackKind) -> Self {
        self.callback = Some(kind);
        self
    }
}
