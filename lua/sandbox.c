/* sandbox.c: the Lua state a recipe runs in: no io or os, bounded memory and steps. */
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lx_int.h"

/* Every allocation of the state goes through here, so one counter bounds
 * what a script can take; a refused request is a Lua memory error, which
 * the script cannot turn into a crash. */
static void *lx_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    LxState *S = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        S->mem -= old;
        return NULL;
    }
    if (nsize > old && S->mem - old + nsize > LX_MEM_LIMIT)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        S->mem = S->mem - old + nsize;
    return p;
}

LxState *lx_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

/* Called every LX_HOOK_EVERY instructions: a runaway loop ends as an error
 * at the line it was running. */
static void step_hook(lua_State *L, lua_Debug *ar)
{
    LxState *S = lx_of(L);
    if (++S->steps * LX_HOOK_EVERY <= LX_STEP_LIMIT)
        return;
    /* the hook's own record names the line that was running */
    lua_getinfo(L, "Sl", ar);
    lua_pushfstring(L, "%s:%d: instruction limit reached (%d Lua instructions): a runaway "
                    "loop?", ar->short_src, ar->currentline, (int)LX_STEP_LIMIT);
    lua_error(L);
}

/* print, on stderr: stdout carries inspect's IR and generated files. */
static int lx_print(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', stderr);
        fwrite(s, 1, len, stderr);
        lua_pop(L, 1);
    }
    fputc('\n', stderr);
    return 0;
}

lua_State *lx_state_new(LxState *S)
{
    lua_State *L = lua_newstate(lx_alloc, S);
    if (!L)
        return NULL;
    /* base, table, string, math, utf8 and coroutine only: no io, os, package
     * or debug, so a script reaches files and processes through nothing. */
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* Loading chunks would read files (dofile, loadfile) or accept binary
     * bytecode, which Lua does not check (load, string.dump). */
    static const char *const drop[] = {"dofile", "loadfile", "load", NULL};
    for (const char *const *k = drop; *k; k++) {
        lua_pushnil(L);
        lua_setglobal(L, *k);
    }
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pushcfunction(L, lx_print);
    lua_setglobal(L, "print");
    lua_sethook(L, step_hook, LUA_MASKCOUNT, LX_HOOK_EVERY);
    return L;
}

/* The message of an error, in one line (a recipe's errors are "file:line:
 * message"; a non-string error object is named by its type). */
static int one_line(lua_State *L)
{
    const char *m = lua_tostring(L, 1);
    if (!m) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            m = lua_tostring(L, -1);
        else
            m = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *p = m; *p; p++)
        luaL_addchar(&b, *p == '\n' || *p == '\r' ? ' ' : *p);
    luaL_pushresult(&b);
    return 1;
}

int lx_pcall(lua_State *L, int nargs, int nres)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, one_line);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    return rc;
}
