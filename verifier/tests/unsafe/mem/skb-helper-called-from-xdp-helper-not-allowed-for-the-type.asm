# name: skb helper called from xdp (helper not allowed for the type)
# class: helper-arg
# type: xdp
# expect: HelperNotAllowed
# unsafe:
call 17
mov %r0, 0
exit
# safe:
call 7
mov %r0, 0
exit
