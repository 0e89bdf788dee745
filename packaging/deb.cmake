# deb.cmake — the Debian package: what goes where, and CPack's DEB settings.
# Included by CMakeLists.txt with -DCLINICBOX_DEB=ON; packaging/build-deb.sh
# configures a build with it and runs cpack (packaging/README.md). The
# binary and the OpenSSL shims are installed by CMakeLists.txt itself.
#
#   /usr/bin/clinicbox                  RUNPATH /usr/lib/clinicbox
#   /usr/lib/clinicbox/lib{ssl,crypto}.so  the shims civetweb loads
#   /usr/share/clinicbox/web/           the UI (the binary's default web_dir)
#   /etc/clinicbox/clinicbox.conf       conffile: the service's settings
#   /lib/systemd/system/clinicbox.service
#   /usr/share/doc/clinicbox/           copyright, changelog.Debian.gz, docs
#   /usr/share/man/man8/clinicbox.8.gz  /usr/share/lintian/overrides/clinicbox
# Maintainer scripts: packaging/debian/ (the user, /var/lib/clinicbox, the
# migration, the service).

set(CLINICBOX_MAINTAINER "clinicbox maintainers <maintainers@clinicbox.invalid>" CACHE STRING
    "The package's Maintainer field")

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "CLINICBOX_DEB=ON needs -DCMAKE_INSTALL_PREFIX=/usr (packaging/build-deb.sh)")
endif()
set(_web /usr/share/clinicbox/web)
if(NOT CLINICBOX_WEB_DIR STREQUAL _web OR NOT CLINICBOX_RUNPATH STREQUAL "/usr/lib/clinicbox")
  message(FATAL_ERROR "CLINICBOX_DEB=ON needs -DCLINICBOX_WEB_DIR=${_web} and "
                      "-DCLINICBOX_RUNPATH=/usr/lib/clinicbox (packaging/build-deb.sh)")
endif()

set(_pkg ${CMAKE_SOURCE_DIR}/packaging)
set(_gen ${CMAKE_BINARY_DIR}/deb)
set(_doc share/doc/clinicbox)
file(MAKE_DIRECTORY ${_gen})

# The UI, without its notes and licence files (the licences are in the
# copyright file, where Debian keeps them).
install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ DESTINATION share/clinicbox/web
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        PATTERN README.md EXCLUDE PATTERN "LICENSE.*" EXCLUDE)
install(FILES ${_pkg}/clinicbox.conf DESTINATION /etc/clinicbox)
install(FILES ${_pkg}/clinicbox.service DESTINATION /lib/systemd/system)
install(FILES ${_pkg}/lintian-overrides DESTINATION share/lintian/overrides RENAME clinicbox)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/config.md
              ${CMAKE_SOURCE_DIR}/docs/security.md ${CMAKE_SOURCE_DIR}/docs/packaging.md
              ${CMAKE_SOURCE_DIR}/docs/service.md ${CMAKE_SOURCE_DIR}/docs/backup.md
        DESTINATION ${_doc})

# copyright: packaging/copyright.in with the third-party licence files put
# in as DEP-5 text (each line indented, an empty line as " .").
function(clinicbox_dep5_text file out)
  file(STRINGS ${file} lines)
  set(text "")
  foreach(l IN LISTS lines)
    if(l STREQUAL "")
      string(APPEND text " .\n")
    else()
      string(APPEND text " ${l}\n")
    endif()
  endforeach()
  string(REGEX REPLACE "\n$" "" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()
clinicbox_dep5_text(${CMAKE_SOURCE_DIR}/src/auth/common-passwords.LICENSE ZXCVBN_LICENSE)
clinicbox_dep5_text(${CMAKE_SOURCE_DIR}/web/vendor/LICENSE.preact PREACT_LICENSE)
configure_file(${_pkg}/copyright.in ${_gen}/copyright @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/src/auth/common-passwords.LICENSE ${CMAKE_SOURCE_DIR}/web/vendor/LICENSE.preact)

# changelog.Debian.gz: one entry for this build, dated by the commit it was
# built from (the same tree gives the same file), compressed as Debian wants
# (gzip -9n: no name or time stamp inside).
execute_process(COMMAND git -C ${CMAKE_SOURCE_DIR} log -1 --format=%H%n%ct
                OUTPUT_VARIABLE _head OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE _git_rc ERROR_QUIET)
if(_git_rc EQUAL 0)
  string(REPLACE "\n" ";" _head "${_head}")
  list(GET _head 0 _commit)
  list(GET _head 1 _epoch)
else()
  set(_commit "(not a git checkout)")
  string(TIMESTAMP _epoch "%s" UTC)
endif()
execute_process(COMMAND date -u -R -d @${_epoch} OUTPUT_VARIABLE _date
                OUTPUT_STRIP_TRAILING_WHITESPACE)
file(WRITE ${_gen}/changelog.Debian
"clinicbox (${CLINICBOX_VERSION}) bookworm; urgency=medium

  * Built from commit ${_commit}.
    The project's history of changes is its git log.

 -- ${CLINICBOX_MAINTAINER}  ${_date}
")
configure_file(${_pkg}/clinicbox.8 ${_gen}/clinicbox.8 COPYONLY)
execute_process(COMMAND gzip -9nf ${_gen}/changelog.Debian ${_gen}/clinicbox.8 RESULT_VARIABLE _gz_rc)
if(NOT _gz_rc EQUAL 0)
  message(FATAL_ERROR "gzip of changelog.Debian and clinicbox.8 failed")
endif()
install(FILES ${_gen}/copyright ${_gen}/changelog.Debian.gz DESTINATION ${_doc})
install(FILES ${_gen}/clinicbox.8.gz DESTINATION share/man/man8)

# Strip as dh_strip does (CPack's own strip keeps the .comment and .note
# sections): after the binary and the shims are installed (CMakeLists.txt,
# above this file's include).
install(CODE "
  set(_root \"\$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}\")
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note
                          \"\${_root}/bin/clinicbox\" COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note --strip-unneeded
                          \"\${_root}/lib/clinicbox/libssl.so\" \"\${_root}/lib/clinicbox/libcrypto.so\"
                          COMMAND_ERROR_IS_FATAL ANY)")

# --- CPack -----------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clinicbox)
set(CPACK_PACKAGE_VERSION ${CLINICBOX_VERSION})
set(CPACK_DEBIAN_PACKAGE_VERSION ${CLINICBOX_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # clinicbox_VERSION_ARCH.deb
set(CPACK_PACKAGE_CONTACT "${CLINICBOX_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CLINICBOX_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first clinic appointment server")
# The long description (CPack puts the summary above it, indents each line
# and turns an empty one into " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "clinicbox keeps a clinic's appointments on a box in its network: the front
desk and doctors use its web UI over HTTPS, it notices no-shows, offers
patients new times by email and SMS, keeps working without the internet
and syncs with a central MongoDB when it can reach one.

The package runs it as the systemd service clinicbox.service, as the
system user clinicbox, with its data in /var/lib/clinicbox and its settings
in /etc/clinicbox/clinicbox.conf (HTTPS on port 443, a self-signed
certificate made at the first start).")
# Depends: what dpkg-shlibdeps finds the binary and the shims linked with
# (libcivetweb1, libssl3, libsqlite3-0, ...); what the server reads at run
# time: the IANA time zones (tzdata, src/core/tz.c reads their TZif files)
# and the CA certificates its outgoing TLS checks against (SMTP, Twilio,
# MongoDB); what the maintainer scripts run: adduser, and
# deb-systemd-helper/-invoke (init-system-helpers).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS usr/lib/clinicbox)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52), tzdata, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_pkg}/debian/postinst ${_pkg}/debian/prerm ${_pkg}/debian/postrm ${_pkg}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Install with DESTDIR into the staging tree: /etc and /lib are absolute.
set(CPACK_SET_DESTDIR ON)
include(CPack)
