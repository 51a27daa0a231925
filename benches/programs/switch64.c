/* A dense 64-way switch: every byte of the input (4 KiB) picks one of 64 cases by its low six
 * bits, each case a different update of an accumulator (as an opcode dispatcher or a protocol
 * state machine does). eBPF has no indirect jump, so the switch is a tree of compares there. */
#include "bench.h"

PROG(switch64)
{
    u64 acc = 1;
    u64 n = len > 4096 ? 4096 : len;
    for (u64 i = 0; i < n; i++) {
        u64 x = mem[i];
        switch (x & 63) {
        case 0:
            acc += x * 3;
            break;
        case 1:
            acc ^= (x << 2) + 764;
            break;
        case 2:
            acc -= x ^ 525;
            break;
        case 3:
            acc = (acc >> 4) + x * 286;
            break;
        case 4:
            acc |= x + 47; acc += 47;
            break;
        case 5:
            acc += (x & 808) << 6;
            break;
        case 6:
            acc = acc * 569 + x;
            break;
        case 7:
            acc ^= acc >> 8; acc += x;
            break;
        case 8:
            acc += x * 91;
            break;
        case 9:
            acc ^= (x << 10) + 852;
            break;
        case 10:
            acc -= x ^ 613;
            break;
        case 11:
            acc = (acc >> 12) + x * 374;
            break;
        case 12:
            acc |= x + 135; acc += 135;
            break;
        case 13:
            acc += (x & 896) << 1;
            break;
        case 14:
            acc = acc * 657 + x;
            break;
        case 15:
            acc ^= acc >> 3; acc += x;
            break;
        case 16:
            acc += x * 179;
            break;
        case 17:
            acc ^= (x << 5) + 940;
            break;
        case 18:
            acc -= x ^ 701;
            break;
        case 19:
            acc = (acc >> 7) + x * 462;
            break;
        case 20:
            acc |= x + 223; acc += 223;
            break;
        case 21:
            acc += (x & 984) << 9;
            break;
        case 22:
            acc = acc * 745 + x;
            break;
        case 23:
            acc ^= acc >> 11; acc += x;
            break;
        case 24:
            acc += x * 267;
            break;
        case 25:
            acc ^= (x << 13) + 28;
            break;
        case 26:
            acc -= x ^ 789;
            break;
        case 27:
            acc = (acc >> 2) + x * 550;
            break;
        case 28:
            acc |= x + 311; acc += 311;
            break;
        case 29:
            acc += (x & 72) << 4;
            break;
        case 30:
            acc = acc * 833 + x;
            break;
        case 31:
            acc ^= acc >> 6; acc += x;
            break;
        case 32:
            acc += x * 355;
            break;
        case 33:
            acc ^= (x << 8) + 116;
            break;
        case 34:
            acc -= x ^ 877;
            break;
        case 35:
            acc = (acc >> 10) + x * 638;
            break;
        case 36:
            acc |= x + 399; acc += 399;
            break;
        case 37:
            acc += (x & 160) << 12;
            break;
        case 38:
            acc = acc * 921 + x;
            break;
        case 39:
            acc ^= acc >> 1; acc += x;
            break;
        case 40:
            acc += x * 443;
            break;
        case 41:
            acc ^= (x << 3) + 204;
            break;
        case 42:
            acc -= x ^ 965;
            break;
        case 43:
            acc = (acc >> 5) + x * 726;
            break;
        case 44:
            acc |= x + 487; acc += 487;
            break;
        case 45:
            acc += (x & 248) << 7;
            break;
        case 46:
            acc = acc * 9 + x;
            break;
        case 47:
            acc ^= acc >> 9; acc += x;
            break;
        case 48:
            acc += x * 531;
            break;
        case 49:
            acc ^= (x << 11) + 292;
            break;
        case 50:
            acc -= x ^ 53;
            break;
        case 51:
            acc = (acc >> 13) + x * 814;
            break;
        case 52:
            acc |= x + 575; acc += 575;
            break;
        case 53:
            acc += (x & 336) << 2;
            break;
        case 54:
            acc = acc * 97 + x;
            break;
        case 55:
            acc ^= acc >> 4; acc += x;
            break;
        case 56:
            acc += x * 619;
            break;
        case 57:
            acc ^= (x << 6) + 380;
            break;
        case 58:
            acc -= x ^ 141;
            break;
        case 59:
            acc = (acc >> 8) + x * 902;
            break;
        case 60:
            acc |= x + 663; acc += 663;
            break;
        case 61:
            acc += (x & 424) << 10;
            break;
        case 62:
            acc = acc * 185 + x;
            break;
        case 63:
            acc ^= acc >> 12; acc += x;
            break;
        }
    }
    return acc;
}
