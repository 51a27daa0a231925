# name: lookup key is a number
# class: helper-arg
# type: xdp
# expect: HelperArg
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, 64
add %r2, -4
call 1
jeq %r0, 0, out
ldxb %r5, [%r0+0]
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxb %r5, [%r0+0]
out:
mov %r0, 0
exit
