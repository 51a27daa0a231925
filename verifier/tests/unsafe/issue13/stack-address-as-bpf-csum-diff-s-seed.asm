# name: stack address as bpf_csum_diff's seed
# class: pointer-leak
# type: sched_cls
# expect: PointerLeak
# unsafe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, %r10
call 28
exit
# safe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 7
call 28
exit
