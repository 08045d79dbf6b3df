/* The exact engine's inner loop in C: Green's theorem over polygon boundaries.
 *
 * The same arithmetic as geomines.engine.exact._row_pieces and _piece_sums (numpy),
 * operation for operation and in the same order, so the two give the same sums bit
 * for bit; the numpy version is the reference the tests compare this with, and the
 * fallback where this module could not be built. This file exists for speed only:
 * the numpy version builds a dozen temporary arrays per window and holds the GIL
 * between them; this loop builds none and releases the GIL.
 *
 * One function, boundary_sums(u, w, seg, slot, out, v, p): for every segment i ->
 * i+1 (seg[i] != 0) of the boundaries, in window pixel coordinates (u: column,
 * w: row), split where it crosses pixel rows; each piece in a row of the window adds
 * -dw * mean(P_cont) over the piece to out[slot[i]], where P_cont(r, x) is the people
 * in row r left of x (p: row prefix sums, h x (width + 1); v: the values, h x width).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static int get_buf(PyObject *obj, Buf *b, const char *name, const char *format,
                   Py_ssize_t itemsize, int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) != 0) {
        return -1;
    }
    b->held = 1;
    const char *fmt = b->view.format ? b->view.format : "B";
    if (fmt[0] == '<' || fmt[0] == '=' || fmt[0] == '@') {
        fmt++;
    }
    if (b->view.itemsize != itemsize || strchr(format, fmt[0]) == NULL || fmt[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s: expected a contiguous array of '%s' (%zd bytes), got '%s'",
                     name, format, itemsize, b->view.format ? b->view.format : "B");
        return -1;
    }
    return 0;
}

static void release(Buf *bufs, int n) {
    for (int i = 0; i < n; i++) {
        if (bufs[i].held) {
            PyBuffer_Release(&bufs[i].view);
        }
    }
}

/* -dw * mean of P_cont over one piece in row `row` (see _piece_sums). */
static double piece(Py_ssize_t row, double ua, double ub, double dw, const double *v,
                    const double *p, Py_ssize_t width) {
    const double wf = (double)width;
    const double *vr = v + row * width;
    const double *pr = p + row * (width + 1);
    double lo = ua < ub ? ua : ub;
    double hi = ua < ub ? ub : ua;
    double a = lo < 0.0 ? 0.0 : (lo > wf ? wf : lo);
    double b = hi < 0.0 ? 0.0 : (hi > wf ? wf : hi);
    double fa = floor(a);
    double fb = ceil(b) - 1.0;
    Py_ssize_t ca = (Py_ssize_t)(fa < wf - 1.0 ? fa : wf - 1.0);
    Py_ssize_t cb = (Py_ssize_t)(fb < wf - 1.0 ? fb : wf - 1.0);
    if (cb < ca) {
        cb = ca;
    }
    double pa = pr[ca], pb = pr[cb], pw = pr[width];
    double va = vr[ca], vb = vr[cb];
    double mid = pa + va * ((a + b) / 2.0 - (double)ca);
    double integral;
    if (ca == cb) {
        integral = (b - a) * mid;
    } else {
        Py_ssize_t n = cb - ca - 1;
        double spanned = 0.0;
        for (Py_ssize_t j = ca + 1; j < cb; j++) {
            spanned += vr[j] * ((double)(cb - j) - 0.5);
        }
        double da = a - (double)ca;
        double db = b - (double)cb;
        double left = pa * ((double)(ca + 1) - a) + va * (1.0 - da * da) / 2.0;
        double middle = (double)n * (pa + va) + spanned;
        double right = pb * db + vb * (db * db) / 2.0;
        integral = left + middle + right;
    }
    double lw = lo > wf ? lo : wf;
    double beyond = hi - lw;
    beyond = (beyond > 0.0 ? beyond : 0.0) * pw;
    double length = hi - lo;
    double mean;
    if (length == 0.0) {
        mean = hi >= wf ? pw : mid;
    } else {
        mean = (integral + beyond) / length;
    }
    return -dw * mean;
}

static PyObject *boundary_sums(PyObject *self, PyObject *args) {
    PyObject *ou, *ow, *oseg, *oslot, *oout, *ov, *op;
    Py_ssize_t h, width;
    if (!PyArg_ParseTuple(args, "OOOOOOOnn:boundary_sums", &ou, &ow, &oseg, &oslot, &oout, &ov,
                          &op, &h, &width)) {
        return NULL;
    }
    Buf bufs[7];
    memset(bufs, 0, sizeof(bufs));
    if (get_buf(ou, &bufs[0], "u", "d", 8, 0) || get_buf(ow, &bufs[1], "w", "d", 8, 0) ||
        get_buf(oseg, &bufs[2], "seg", "?bB", 1, 0) || get_buf(oslot, &bufs[3], "slot", "qlL", 8, 0) ||
        get_buf(oout, &bufs[4], "out", "d", 8, 1) || get_buf(ov, &bufs[5], "v", "d", 8, 0) ||
        get_buf(op, &bufs[6], "p", "d", 8, 0)) {
        release(bufs, 7);
        return NULL;
    }
    Py_ssize_t n = bufs[0].view.len / 8;
    Py_ssize_t nslots = bufs[4].view.len / 8;
    if (bufs[1].view.len / 8 != n || bufs[2].view.len != n || bufs[3].view.len / 8 != n ||
        h < 0 || width < 1 || bufs[5].view.len / 8 != h * width ||
        bufs[6].view.len / 8 != h * (width + 1)) {
        release(bufs, 7);
        PyErr_SetString(PyExc_ValueError,
                        "boundary_sums: expected u, w, seg, slot of one length, v of h x width "
                        "and p of h x (width + 1) values");
        return NULL;
    }
    const double *u = bufs[0].view.buf, *w = bufs[1].view.buf;
    const uint8_t *seg = bufs[2].view.buf;
    const int64_t *slot = bufs[3].view.buf;
    double *out = bufs[4].view.buf;
    const double *v = bufs[5].view.buf, *p = bufs[6].view.buf;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        if (!seg[i]) {
            continue;
        }
        double u0 = u[i], w0 = w[i], u1 = u[i + 1], w1 = w[i + 1];
        int64_t s = slot[i];
        if (s < 0 || s >= nslots || !isfinite(u0) || !isfinite(w0) || !isfinite(u1) ||
            !isfinite(w1)) {
            bad = i;
            break;
        }
        /* integer row lines strictly between w0 and w1, in the order the segment meets them */
        double lo = floor(w0 < w1 ? w0 : w1) + 1.0;
        double hi = ceil(w0 < w1 ? w1 : w0) - 1.0;
        double count = hi - lo + 1.0;
        Py_ssize_t crossings = count > 0.0 ? (Py_ssize_t)count : 0;
        int down = w1 > w0;
        double pu = u0, pw = w0;
        for (Py_ssize_t k = 0; k <= crossings; k++) {
            double qu, qw;
            if (k < crossings) {
                double line = down ? lo + (double)k : hi - (double)k;
                double t = (line - w0) / (w1 - w0);
                qu = u0 + t * (u1 - u0);
                qw = line;
            } else {
                qu = u1;
                qw = w1;
            }
            double r = floor((pw + qw) / 2.0);
            if (r >= 0.0 && r < (double)h) {
                out[s] += piece((Py_ssize_t)r, pu, qu, qw - pw, v, p, width);
            }
            pu = qu;
            pw = qw;
        }
    }
    Py_END_ALLOW_THREADS
    release(bufs, 7);
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError,
                     "boundary_sums: segment %zd has a coordinate that is not finite or a slot "
                     "outside 0..%zd",
                     bad, nslots - 1);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *row_prefix(PyObject *self, PyObject *args) {
    PyObject *ov, *op;
    Py_ssize_t h, width;
    if (!PyArg_ParseTuple(args, "OOnn:row_prefix", &ov, &op, &h, &width)) {
        return NULL;
    }
    Buf bufs[2];
    memset(bufs, 0, sizeof(bufs));
    if (get_buf(ov, &bufs[0], "v", "d", 8, 0) || get_buf(op, &bufs[1], "p", "d", 8, 1)) {
        release(bufs, 2);
        return NULL;
    }
    if (h < 0 || width < 1 || bufs[0].view.len / 8 != h * width ||
        bufs[1].view.len / 8 != h * (width + 1)) {
        release(bufs, 2);
        PyErr_SetString(PyExc_ValueError,
                        "row_prefix: expected v of h x width and p of h x (width + 1) values");
        return NULL;
    }
    const double *v = bufs[0].view.buf;
    double *p = bufs[1].view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < h; r++) {
        const double *row = v + r * width;
        double *out = p + r * (width + 1);
        double acc = 0.0;
        out[0] = 0.0;
        for (Py_ssize_t c = 0; c < width; c++) {
            acc += row[c]; /* in order, as numpy's cumsum: the same sums bit for bit */
            out[c + 1] = acc;
        }
    }
    Py_END_ALLOW_THREADS
    release(bufs, 2);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"row_prefix", row_prefix, METH_VARARGS,
     "row_prefix(v, p, h, width): p[r, k] = sum of v[r, :k], the GIL released (see "
     "geomines.engine.exact._prefix)."},
    {"boundary_sums", boundary_sums, METH_VARARGS,
     "boundary_sums(u, w, seg, slot, out, v, p, h, width): add each boundary's Green's "
     "theorem sum to out[slot] (see geomines.engine.exact)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "cgreen", "The exact engine's inner loop (see cgreen.c).", -1, methods,
};

PyMODINIT_FUNC PyInit_cgreen(void) { return PyModule_Create(&module); }
