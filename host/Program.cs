// Replaced by the CLI in the foundation work (issue 2); kept minimal so the solution builds meanwhile.
return 0;
