# name: kprobe ctx read at a negative offset
# class: ctx
# type: kprobe
# expect: OutOfBounds
# unsafe:
ldxdw %r0, [%r1-8]
exit
# safe:
ldxdw %r0, [%r1+8]
exit
