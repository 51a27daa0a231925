# name: stack slot never written
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
ldxdw %r0, [%r10-8]
exit
# safe:
stdw [%r10-8], 0
ldxdw %r0, [%r10-8]
exit
