# name: cmpxchg with a pointer comparand
# class: atomic
# type: mem 8
# expect: Atomic
# unsafe:
stdw [%r10-8], 0
mov %r0, %r10
mov %r1, 1
lock cmpxchg [%r10-8], %r1
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r0, 0
mov %r1, 1
lock cmpxchg [%r10-8], %r1
mov %r0, 0
exit
