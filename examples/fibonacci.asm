# fib(n) for n = the first input byte, through a bpf-to-bpf call and a bounded loop.
#   cargo run --release -- run examples/fibonacci.asm --mem "5a"   -> fib(90) = 2880067194370816120
    ldxb %r1, [%r1]
    call local fib
    exit

# fib(r1): iterative, r6-r9 are callee-saved so the function uses r0 and r2-r4 only.
fib:
    mov %r0, 0
    mov %r2, 1
    jeq %r1, 0, fib_done
fib_loop:
    mov %r3, %r0
    add %r3, %r2
    mov %r0, %r2
    mov %r2, %r3
    sub %r1, 1
    jne %r1, 0, fib_loop
fib_done:
    exit
