# name: stack and context addresses compared, the outcome in r0
# class: pointer-leak
# type: xdp
# expect: PointerComparison
# unsafe:
mov %r0, 1
jgt %r10, %r1, +1
mov %r0, 2
exit
# safe:
mov %r0, 1
mov %r2, %r10
jgt %r10, %r2, +1
mov %r0, 2
exit
