# name: stack slot half written
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
stw [%r10-8], 0
ldxdw %r0, [%r10-8]
exit
# safe:
stw [%r10-8], 0
stw [%r10-4], 0
ldxdw %r0, [%r10-8]
exit
