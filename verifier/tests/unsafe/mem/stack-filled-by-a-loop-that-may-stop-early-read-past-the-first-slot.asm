# name: stack filled by a loop that may stop early, read past the first slot
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
ldxb %r6, [%r1+0]
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
jeq %r6, 7, done
add %r1, 1
jlt %r1, 64, loop
done:
ldxdw %r0, [%r10-16]
exit
# safe:
ldxb %r6, [%r1+0]
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
jeq %r6, 7, done
add %r1, 1
jlt %r1, 64, loop
done:
ldxdw %r0, [%r10-8]
exit
