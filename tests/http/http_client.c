#include "http_client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct grow {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct grow *g = userdata;
    size_t n = size * nmemb;
    char *p = realloc(g->data, g->len + n + 1);
    cr_assert_not_null(p);
    memcpy(p + g->len, ptr, n);
    g->len += n;
    p[g->len] = '\0';
    g->data = p;
    return n;
}

void http_request(struct http_reply *out, unsigned port, const char *method, const char *target,
                  const char *content_type, const char *body, size_t body_len,
                  const char *const *extra_headers)
{
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, target);
    CURL *curl = curl_easy_init();
    cr_assert_not_null(curl);
    struct grow b = {calloc(1, 1), 0}, h = {calloc(1, 1), 0};
    struct curl_slist *list = NULL;
    char type_header[200];
    if (content_type) {
        snprintf(type_header, sizeof type_header, "Content-Type: %s", content_type);
        list = curl_slist_append(list, type_header);
    }
    list = curl_slist_append(list, "Expect:");
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        list = curl_slist_append(list, extra_headers[i]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(curl);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, target, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.data;
    out->body_len = b.len;
    out->headers = h.data;
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
}

void http_reply_free(struct http_reply *reply)
{
    free(reply->body);
    free(reply->headers);
    memset(reply, 0, sizeof *reply);
}

char *http_header(const struct http_reply *reply, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = reply->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && line[n] == ':' && !strncasecmp(line, name, n)) {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(line + len - v));
        }
        line += len + (end ? 2 : 0);
    }
    return NULL;
}

/* http_raw and http_raw_for: with timeout_ms > 0 reading stops after that long. */
static char *raw_request(unsigned port, const char *request, size_t *len, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    if (timeout_ms > 0) {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    size_t total = strlen(request);
    for (size_t sent = 0; sent < total;) {
        ssize_t n = write(fd, request + sent, total - sent);
        cr_assert_gt(n, 0);
        sent += (size_t)n;
    }
    struct grow g = {calloc(1, 1), 0};
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        collect(chunk, 1, (size_t)n, &g);
    close(fd);
    if (len)
        *len = g.len;
    return g.data;
}

char *http_raw(unsigned port, const char *request, size_t *len)
{
    return raw_request(port, request, len, 0);
}

char *http_raw_for(unsigned port, const char *request, int timeout_ms)
{
    return raw_request(port, request, NULL, timeout_ms);
}

void http_form_append(char **out, const char *name, const char *value)
{
    CURL *curl = curl_easy_init();
    char *escaped = curl_easy_escape(curl, value, (int)strlen(value));
    cr_assert_not_null(escaped);
    size_t old = *out ? strlen(*out) : 0;
    size_t need = old + strlen(name) + strlen(escaped) + 3;
    char *p = realloc(*out, need);
    cr_assert_not_null(p);
    snprintf(p + old, need - old, "%s%s=%s", old ? "&" : "", name, escaped);
    *out = p;
    curl_free(escaped);
    curl_easy_cleanup(curl);
}
