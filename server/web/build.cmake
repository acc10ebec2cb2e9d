# Builds the map page into OUT (run by the wangge-web target of server/CMakeLists.txt):
#   cmake -DSRC=server/web -DWORK=build/server/web-npm -DOUT=build/server/web -DNPM=/usr/bin/npm
#         -DSTAMP=... -P build.cmake
# 1. `npm ci` of SRC's package.json/package-lock.json in WORK, only when the lock differs from
#    the one last installed there (MapLibre GL JS comes from the npm registry, never the repo);
# 2. copies the page (index.html, map.js, map.css) and MapLibre's dist files into OUT.
# Without npm, or when npm fails, the page is still copied and reports that MapLibre is
# missing; the build goes on, and the next build tries npm again (no STAMP is written).
cmake_minimum_required(VERSION 3.16)
foreach(v SRC WORK OUT STAMP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "build.cmake: -D${v}= is required")
  endif()
endforeach()

set(lib ${WORK}/node_modules/maplibre-gl)
set(installed_lock ${WORK}/package-lock.json)
set(need_ci TRUE)
if(EXISTS ${lib}/package.json AND EXISTS ${installed_lock})
  file(SHA256 ${SRC}/package-lock.json want)
  file(SHA256 ${installed_lock} have)
  if(want STREQUAL have)
    set(need_ci FALSE)
  endif()
endif()

if(need_ci)
  if(NPM)
    message(STATUS "wangge-web: npm ci (maplibre-gl from the npm registry) in ${WORK}")
    file(MAKE_DIRECTORY ${WORK})
    file(REMOVE ${installed_lock})
    configure_file(${SRC}/package.json ${WORK}/package.json COPYONLY)
    configure_file(${SRC}/package-lock.json ${installed_lock} COPYONLY)
    execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
                    WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS ${lib}/package.json)
      message(WARNING "wangge-web: npm ci failed (${rc}); the map page will report that MapLibre GL JS is missing")
      file(REMOVE ${installed_lock})
    endif()
  else()
    message(WARNING "wangge-web: npm not found; the map page will report that MapLibre GL JS is missing "
                    "(install nodejs and npm, then rebuild)")
  endif()
endif()

file(MAKE_DIRECTORY ${OUT})
foreach(f index.html map.js map.css)
  configure_file(${SRC}/${f} ${OUT}/${f} COPYONLY)
endforeach()
set(complete TRUE)
foreach(f maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css)
  if(EXISTS ${lib}/dist/${f} AND EXISTS ${installed_lock})
    configure_file(${lib}/dist/${f} ${OUT}/${f} COPYONLY)
  else()
    file(REMOVE ${OUT}/${f})
    set(complete FALSE)
  endif()
endforeach()
if(EXISTS ${lib}/LICENSE.txt)
  configure_file(${lib}/LICENSE.txt ${OUT}/maplibre-gl-LICENSE.txt COPYONLY)
endif()
if(complete)
  # newer than every input, so that the build runs this again only when one changes
  foreach(f index.html map.js map.css maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css)
    file(TOUCH_NOCREATE ${OUT}/${f})
  endforeach()
  file(TOUCH ${STAMP})
else()
  file(REMOVE ${STAMP})
endif()
