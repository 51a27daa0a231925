# name: pointer compared with a number
# class: ptr-leak
# type: xdp
# expect: PointerComparison
# unsafe:
mov %r0, 0
jgt %r1, 5, +1
mov %r0, 1
exit
# safe:
mov %r0, 0
mov %r2, 3
jgt %r2, 5, +1
mov %r0, 1
exit
