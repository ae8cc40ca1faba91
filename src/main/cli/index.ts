console.log('dbferry');
