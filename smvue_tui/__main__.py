from smvue_tui.cli import main

raise SystemExit(main())
