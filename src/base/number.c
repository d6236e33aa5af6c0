/*
 * The shortest text that reads back to the same double. This runs once per number cell when
 * a sheet is dumped, so integers and short decimals are written by hand rather than through
 * printf; only the rest goes through snprintf, where the shortest round-tripping precision
 * has to be searched for anyway.
 */
#include "base/number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t number_put_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* The common case of a decimal with a few fraction digits (1234.56), without snprintf and
 * strtod. If r / 10^k == value for an integer r, the decimal r·10^-k reads back as value
 * (both are the correctly rounded double of the same rational), and with at most 15
 * significant digits it is also what %.15g prints, since value lies within half an ulp of
 * it and far from any 15-digit rounding boundary. The smallest such k has no trailing
 * zero. Outside [1e-4, 1e9) %g may switch to exponent notation, so the general path
 * handles those. */
static size_t format_short_decimal(double value, char out[NUMBER_FORMAT_MAX])
{
    static const double pow10[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
    double mag = fabs(value);
    if (!(mag >= 1e-4 && mag < 1e9))
        return 0;
    for (int k = 1; k <= 6; k++) {
        double r = nearbyint(mag * pow10[k]);
        if (r / pow10[k] != mag)
            continue;
        uint64_t digits = (uint64_t)r;
        char tmp[24];
        size_t n = number_put_u64(tmp, digits);
        size_t w = 0;
        if (value < 0)
            out[w++] = '-';
        if (n <= (size_t)k) {
            out[w++] = '0';
            out[w++] = '.';
            for (size_t z = n; z < (size_t)k; z++)
                out[w++] = '0';
            memcpy(out + w, tmp, n);
            w += n;
        } else {
            memcpy(out + w, tmp, n - (size_t)k);
            w += n - (size_t)k;
            out[w++] = '.';
            memcpy(out + w, tmp + n - (size_t)k, (size_t)k);
            w += (size_t)k;
        }
        out[w] = '\0';
        return w;
    }
    return 0;
}

size_t number_format(double value, char out[NUMBER_FORMAT_MAX])
{
    if (isfinite(value) && value == trunc(value) && fabs(value) < 1e15) {
        size_t n = 0;
        if (value < 0 && value != 0)
            out[n++] = '-';
        n += number_put_u64(out + n, (uint64_t)fabs(value));
        out[n] = '\0';
        return n;
    }
    size_t n = format_short_decimal(value, out);
    if (n)
        return n;
    if (!isfinite(value)) {
        strcpy(out, isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        return strlen(out);
    }
    for (int prec = 15; prec <= 17; prec++) {
        int len = snprintf(out, 32, "%.*g", prec, value);
        if (prec == 17 || strtod(out, NULL) == value)
            return (size_t)len;
    }
    return strlen(out);
}
