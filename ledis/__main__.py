from ledis.cli import main

raise SystemExit(main())
