# name: stack address stored in a socket buffer's mark
# class: pointer-leak
# type: sched_cls
# expect: PointerLeak
# unsafe:
stxw [%r1+8], %r10
mov %r0, 0
exit
# safe:
stw [%r1+8], 1
mov %r0, 0
exit
