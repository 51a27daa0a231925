//! The sandbox window of a loaded object (sandboxed verified mode, the default of verified
//! objects): one window holding the object's maps, global data, context and packet buffer, and
//! the stacks and input copies of its runs. See `apiary_window` and `apiary_engine::sandbox`.

use std::io;
use std::sync::Arc;

use apiary_vm::maps::{window_bytes, MapOptions, MapSpec};
use apiary_vm::memory::STACK_SIZE;
use apiary_vm::window::{size_for, Placement, Window, GRAIN};

/// Room kept for run stacks and input copies besides the maps and the context buffer: 64
/// states' stacks and 4 MiB of input copies (each block grain-rounded with a guard).
const RUN_ROOM: usize = 64 * (STACK_SIZE.next_multiple_of(GRAIN) + GRAIN) + (4 << 20);

/// A window for an instance with maps `specs` (under `options`) and `buffers` context buffers
/// ([`crate::context::ContextBuffer::LEN`] bytes each): below 4 GiB when there are any, since `__sk_buff` and `xdp_md` hold 32-bit
/// packet addresses. Sized as the smallest power of two holding everything the maps may come
/// to hold (their [`apiary_vm::Limits`]-bounded cost), the buffers and [`RUN_ROOM`]; virtual
/// (`MAP_NORESERVE`), so resident memory stays what is touched. Specs whose limits fail are
/// left out here: creating them fails with the precise error.
///
/// # Errors
/// The window could not be mapped (no aligned room below 4 GiB, more than 2 GiB there, or
/// `mmap` failed).
pub(crate) fn object_window(
    specs: &[MapSpec],
    options: &MapOptions,
    buffers: usize,
) -> io::Result<Arc<Window>> {
    let maps: u64 = specs
        .iter()
        .filter_map(|s| window_bytes(std::slice::from_ref(s), options).ok())
        .fold(0, u64::saturating_add);
    let maps = usize::try_from(maps).unwrap_or(usize::MAX);
    let lens = std::iter::once(maps).chain(std::iter::repeat_n(
        crate::context::ContextBuffer::LEN,
        buffers,
    ));
    let size = size_for(lens, RUN_ROOM)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "window size overflows"))?;
    let placement = if buffers > 0 {
        Placement::Below4G
    } else {
        Placement::Anywhere
    };
    Window::sandbox(size, placement)
}
