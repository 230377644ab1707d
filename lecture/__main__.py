from lecture.cli import main

raise SystemExit(main())
