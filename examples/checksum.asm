# RFC 1071 Internet checksum of the input (16-bit big-endian words, odd trailing byte padded).
#   cargo run --release -- run examples/checksum.asm --mem "45 00 00 1c 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
    mov %r0, 0                 # running sum
    mov %r3, 0                 # offset
words:
    mov %r4, %r3
    add %r4, 2
    jgt %r4, %r2, tail         # fewer than two bytes left
    mov %r5, %r1
    add %r5, %r3
    ldxh %r6, [%r5]
    be16 %r6
    add %r0, %r6
    mov %r3, %r4
    ja words
tail:
    jge %r3, %r2, fold
    mov %r5, %r1
    add %r5, %r3
    ldxb %r6, [%r5]
    lsh %r6, 8
    add %r0, %r6
fold:
    mov %r6, %r0
    rsh %r6, 16
    jeq %r6, 0, done
    and %r0, 0xffff
    add %r0, %r6
    ja fold
done:
    xor %r0, 0xffff
    exit
