# name: combined stack of two frames above 512 bytes
# class: calls
# type: mem 8
# expect: CombinedStack
# unsafe:
stdw [%r10-512], 0
call local f
exit
f:
stdw [%r10-512], 0
mov %r0, 0
exit
# safe:
stdw [%r10-256], 0
call local f
exit
f:
stdw [%r10-256], 0
mov %r0, 0
exit
