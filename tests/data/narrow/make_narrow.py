#!/usr/bin/env python3
"""make_narrow.py: writes the narrow-type models of tests/unit/test_narrow.c with a
hand-rolled protobuf encoder (the ONNX Python package of the build machines
predates int4): add_float8.onnx (an op that must refuse float8) and
int4_movement.onnx (Transpose, Reshape, Gather, Flatten, Squeeze, Concat,
Slice, Identity and Cast on a packed int4 tensor) with its input."""
import struct


def vi(n):
    out = b''
    n &= (1 << 64) - 1
    while True:
        c = n & 0x7f
        n >>= 7
        if n:
            out += bytes([c | 0x80])
        else:
            return out + bytes([c])


def fld(f, v):
    if isinstance(v, int):
        return vi(f << 3) + vi(v)
    if isinstance(v, str):
        v = v.encode()
    return vi(f << 3 | 2) + vi(len(v)) + v


def tinfo(name, dt, dims):
    shape = b''.join(fld(1, fld(1, d)) for d in dims)
    return fld(1, name) + fld(2, fld(1, fld(1, dt) + fld(2, shape)))


def attr_i(name, v):
    return fld(5, fld(1, name) + fld(3, v) + fld(20, 2))


def attr_ints(name, vs):
    return fld(5, fld(1, name) + b''.join(fld(8, v) for v in vs) + fld(20, 7))


def node(op, ins, outs, attrs=b''):
    return b''.join(fld(1, i) for i in ins) + b''.join(fld(2, o) for o in outs) + fld(4, op) + attrs


def tensor(name, dt, dims, raw):
    return b''.join(fld(1, d) for d in dims) + fld(2, dt) + fld(8, name) + fld(9, raw)


def model(nodes, ins, outs, inits=(), opset=25):
    g = (b''.join(fld(1, n) for n in nodes) + fld(2, 'g') + b''.join(fld(5, t) for t in inits) +
         b''.join(fld(11, i) for i in ins) + b''.join(fld(12, o) for o in outs))
    return fld(1, 10) + fld(8, fld(1, '') + fld(2, opset)) + fld(7, g)


def i64(name, *v):
    return tensor(name, 7, [len(v)], struct.pack('<%dq' % len(v), *v))


open('add_float8.onnx', 'wb').write(
    model([node('Add', ['x', 'x'], ['y'])], [tinfo('x', 17, [4])], [tinfo('y', 17, [4])]))

inits = [i64('shp', 5, 3), i64('idx', 4, -5), tensor('c4', 22, [3], bytes([0x9a, 0x0b])),
         i64('st', 1), i64('en', 5), i64('ax', 0), i64('sp', 2)]
nodes = [node('Transpose', ['x'], ['t'], attr_ints('perm', [1, 0])),
         node('Reshape', ['t', 'shp'], ['r']),
         node('Gather', ['r', 'idx'], ['g'], attr_i('axis', 0)),
         node('Flatten', ['g'], ['f'], attr_i('axis', 0)),
         node('Squeeze', ['f'], ['s']),
         node('Concat', ['s', 'c4'], ['cc'], attr_i('axis', 0)),
         node('Slice', ['cc', 'st', 'en', 'ax', 'sp'], ['sl']),
         node('Identity', ['cc'], ['y2']),
         node('Cast', ['sl'], ['y'], attr_i('to', 1))]
open('int4_movement.onnx', 'wb').write(
    model(nodes, [tinfo('x', 22, [3, 5])], [tinfo('y', 1, [2]), tinfo('y2', 22, [9])], inits))
# x = [[1, 2, 3, 4, 5], [6, 7, -8, -7, -6], [-5, -4, -3, -2, -1]], packed
open('int4_movement_x.pb', 'wb').write(
    tensor('x', 22, [3, 5], bytes([0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f])))
