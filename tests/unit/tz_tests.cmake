# Unit tests for src/core/tz.c and src/core/timefmt.c.
foreach(t test_tz test_timefmt)
  add_executable(${t} ${t}.c)
  target_link_libraries(${t} PRIVATE clinicbox_core)
  add_test(NAME unit.${t} COMMAND ${t})
endforeach()
